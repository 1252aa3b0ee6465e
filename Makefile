# Two commands on a fresh machine (see README):
#   make run    set up, build the index from the embedded default data, serve the site
#   make test   set up and run the test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup run build serve test test-fast lint bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

build: setup
	$(BIN)/medcodes build

serve: setup
	$(BIN)/medcodes serve

run: build serve

test: setup
	$(BIN)/pytest

# the edit-test loop: everything but the tests that build and read the full index, and the browser
test-fast: setup
	$(BIN)/pytest -m "not slow and not browser"

lint: setup
	$(BIN)/ruff check medcodes tests bench
	$(BIN)/mypy medcodes

bench: setup
	$(BIN)/python bench/build.py
