# kubectl-arch developer tasks. Everything runs in .venv, created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLATFORMS ?= linux/amd64,linux/arm64
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' kubectl_arch/__init__.py)
# Release archives (make dist): where they go, where they will be downloaded from (plugin.yaml's
# uris), which krew platforms and which CPython versions (for compiled dependencies) they carry,
# and where the filled-in krew manifest is written.
DIST_DIR ?= dist
RELEASE_URL ?= https://github.com/kubectl-arch/kubectl-arch/releases/download/v$(VERSION)
DIST_PLATFORMS ?= linux/amd64,linux/arm64,darwin/amd64,darwin/arm64
DIST_PYTHONS ?= 3.11,3.12,3.13,3.14,3.15
DIST_MANIFEST ?= plugin.yaml

.PHONY: demo test lint bench clean compile dist

$(BIN)/kubectl-arch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q kubectl_arch
	@touch $@

# Byte-compile the package (this checkout may run with PYTHONDONTWRITEBYTECODE set).
compile: $(BIN)/kubectl-arch
	@$(BIN)/python -m compileall -q kubectl_arch

# Install the tool and show what pinning the example manifest changes (a unified diff).
demo: compile
	$(BIN)/kubectl-arch pin --platform $(PLATFORMS) -f testdata/deploy.yaml --diff

# The whole test suite.
test: compile
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/kubectl-arch
	$(BIN)/ruff check kubectl_arch tests bench release
	$(BIN)/ruff format --check kubectl_arch tests bench release

bench: compile
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py

# The krew release archives (one per platform, a zipapp inside) and their sha256 in plugin.yaml.
dist: $(BIN)/kubectl-arch
	$(BIN)/python release/build.py --out $(DIST_DIR) --platforms $(DIST_PLATFORMS) --pythons $(DIST_PYTHONS) \
		--manifest plugin.yaml --manifest-out $(DIST_MANIFEST) --release-url $(RELEASE_URL)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
