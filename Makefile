# Two commands on a fresh machine: `make run` (serve the app on the embedded defaults) and
# `make test` (lint, migrations check and the whole suite). Both set everything up first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8081

.PHONY: run test lint pytest assets migrate setup setup-dev worker beat clean

run: setup assets migrate
	$(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --loop uvloop --http httptools

test: setup-dev assets lint pytest

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

pytest:
	$(PY) -m pytest

migrate:
	$(PY) manage.py migrate --noinput

worker: setup
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: setup
	$(VENV)/bin/celery -A config beat --loglevel=INFO

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Tailwind scans the templates, so the CSS is rebuilt on every run (about a second).
assets: node_modules/.installed
	npm run --silent build

clean:
	rm -rf $(VENV) node_modules static/dist static/vendor staticfiles .test-db.sqlite3
