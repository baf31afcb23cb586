# actionplan: `make run` starts the whole platform on its embedded local stack; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
MONGO_VENV := .venv-mongo
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: setup run test test-unit lint contracts bench clean

$(VENV)/.installed: requirements/app.txt requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 'setuptools<82' wheel
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

$(MONGO_VENV)/.installed: requirements/mongo-local.txt
	$(PYTHON) -m venv $(MONGO_VENV)
	$(MONGO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MONGO_VENV)/bin/python -m pip install --quiet -r requirements/mongo-local.txt
	touch $@

setup: $(VENV)/.installed $(MONGO_VENV)/.installed

run: setup
	$(PY) -m deploy.local.run

lint: setup
	$(VENV)/bin/lint-imports

contracts: setup
	$(PY) -m tools.contracts check

test: setup lint
	$(PY) -m pytest

test-unit: setup
	$(PY) -m pytest -m "not stack"

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(MONGO_VENV) .local .pytest_cache
