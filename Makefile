# Berth: `make up` runs it, `make test` proves it. Both set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUM := $(shell cat setup.cfg pyproject.toml setup.py | cksum | cut -d' ' -f1)
# `make up` needs only the runtime dependencies; lint, typecheck and test add the dev tools.
RUNTIME := $(VENV)/.runtime-$(SUM)
STAMP := $(VENV)/.installed-$(SUM)

.PHONY: install runtime up test lint typecheck unit bench clean screenshots

$(RUNTIME): setup.cfg pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.runtime-*
	touch $@

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

runtime: $(RUNTIME)

install: $(STAMP)

up: runtime
	$(BIN)/berth up

lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# mypy cannot follow setuptools' import-hook editable install of `berth = src`,
# so it reads the sources through a symlink named like the package.
typecheck: install
	mkdir -p .typecheck && ln -sfn ../src .typecheck/berth
	MYPYPATH=.typecheck $(BIN)/mypy -p berth

test: lint typecheck
	$(BIN)/pytest

# A PNG of each page of the staff screen, from the browser tests (needs /usr/bin/chromium).
screenshots: install
	rm -rf var/screenshots
	BERTH_REQUIRE_BROWSER=1 BERTH_SCREENSHOTS=var/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/web/test_screen_browser.py
	@ls var/screenshots

bench: install
	$(BIN)/python bench/holds.py

clean:
	rm -rf $(VENV) .typecheck .pytest_cache .mypy_cache .ruff_cache build *.egg-info
