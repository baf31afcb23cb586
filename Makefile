# actionplan: `make run` starts the whole platform on its embedded local stack; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
MONGO_VENV := .venv-mongo
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: setup browser run token test test-unit lint contracts bench clean

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

# GraphiQL's browser files, served by the gateway itself (versions in gateway/static/package-lock.json)
GRAPHIQL_ASSETS := gateway/static/node_modules/.installed
$(GRAPHIQL_ASSETS): gateway/static/package.json gateway/static/package-lock.json
	npm ci --prefix gateway/static --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

setup: $(VENV)/.installed $(MONGO_VENV)/.installed $(GRAPHIQL_ASSETS)

# the browser test opens GraphiQL in Debian's headless Chromium; installed here when missing (needs root and apt)
# the real clients the tests use as users do: headless Chromium (GraphiQL) and kcat (a partner reading its topic)
browser:
	@command -v chromium >/dev/null || { echo "installing chromium"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v kcat >/dev/null || { echo "installing kcat"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null; }

run: setup
	$(PY) -m deploy.local.run

# a bearer token the running `make run` stack accepts: make token ROLE=grant_officer ORG=ministry [REGION=sjaelland]
token: setup
	@$(PY) -m deploy.local.issuer token --role "$(ROLE)" --org "$(ORG)" --region "$(REGION)"

lint: setup
	$(VENV)/bin/lint-imports

contracts: setup
	$(PY) -m tools.contracts check

test: setup browser lint
	$(PY) -m pytest

test-unit: setup
	$(PY) -m pytest -m "not stack"

# ads ad triage's figures ingest (make bench ADS=10000); the queue is measured at 10,000 and at ADS
ADS ?= 100000
bench: setup
	$(PY) -m bench --ads $(ADS)

clean:
	rm -rf $(VENV) $(MONGO_VENV) .local .pytest_cache
