# Quick start: `make demo` and `make test`. Both set up what they need on a fresh Debian 12.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test venv system-deps openapi migration bench serve clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

system-deps:
	@scripts/install-system-deps.sh

## Simulated Allworx site + router, an audit, a printed summary.
demo: venv system-deps
	$(PY) app.py demo

## Every test (lab tests need root; CI runs as root).
test: venv system-deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

## Rewrite the committed OpenAPI spec from the live app.
openapi: venv
	$(PY) app.py openapi-write openapi/openapi.json

## New Alembic revision after a model change: make migration MSG="what changed"
migration: venv
	rm -f var/migration-scratch.db && mkdir -p var
	$(VENV)/bin/alembic upgrade head && $(VENV)/bin/alembic revision --autogenerate -m "$(MSG)"
	rm -f var/migration-scratch.db

bench: venv system-deps
	for b in bench/[!_]*.py; do $(PY) $$b || exit 1; done

serve: venv
	$(VENV)/bin/gunicorn -c gunicorn.conf.py 'app:create_app()'

clean:
	rm -rf $(VENV) var .pytest_cache
