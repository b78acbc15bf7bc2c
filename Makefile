# kubectl-arch developer tasks. Everything runs in .venv, created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLATFORMS ?= linux/amd64,linux/arm64

.PHONY: demo test lint bench clean compile

$(BIN)/kubectl-arch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q kubectl_arch
	@touch $@

# Byte-compile the package (this checkout may run with PYTHONDONTWRITEBYTECODE set).
compile: $(BIN)/kubectl-arch
	@$(BIN)/python -m compileall -q kubectl_arch

# Install the tool and pin the example manifest.
demo: compile
	$(BIN)/kubectl-arch pin --platform $(PLATFORMS) -f testdata/deploy.yaml

# The whole test suite.
test: compile
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/kubectl-arch
	$(BIN)/ruff check kubectl_arch tests bench
	$(BIN)/ruff format --check kubectl_arch tests bench

bench: compile
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
