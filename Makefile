# Two commands on a fresh machine (see README):
#   make run    set up, build the index from the embedded default data, serve the site
#   make check  set up, lint and run every test (what CI runs)
# and the edit-test loop:
#   make test   every test but the slow, browser and real-data ones
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# pytest-xdist workers: one per core; JOBS=1 runs the tests in one process
JOBS ?= auto
PYTEST := $(BIN)/pytest $(if $(filter 1,$(JOBS)),,-n $(JOBS))

.PHONY: setup run build serve test check lint docs bench

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

# the edit-test loop: everything but the tests marked slow (the full index, live multi-process
# servers, whole embedded data files), the browser tests and the tests that read the official files
# in ../shared/data (minutes of CPU where they are present)
test: setup
	$(PYTEST) -m "not slow and not browser and not realdata"

# lint, then every test; the full index is built once per run and shared by the workers
check: lint
	$(PYTEST)

lint: setup
	$(BIN)/ruff check medcodes tests bench docs
	$(BIN)/mypy medcodes
	$(BIN)/python docs/cli_reference.py --check

docs: setup
	$(BIN)/python docs/cli_reference.py

bench: setup
	$(BIN)/python bench/build.py
