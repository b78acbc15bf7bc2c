# kubectl-arch developer tasks. Everything runs in .venv, created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLATFORMS ?= linux/amd64,linux/arm64

.PHONY: demo test lint bench clean

$(BIN)/kubectl-arch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q kubectl_arch
	@touch $@

# Install the tool and pin the example manifest.
demo: $(BIN)/kubectl-arch
	$(BIN)/kubectl-arch pin --platform $(PLATFORMS) -f testdata/deploy.yaml

# The whole test suite.
test: $(BIN)/kubectl-arch
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/kubectl-arch
	$(BIN)/ruff check kubectl_arch tests bench
	$(BIN)/ruff format --check kubectl_arch tests bench

bench: $(BIN)/kubectl-arch
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
