# Two commands on a fresh machine: `make run` (serve the app on the embedded defaults) and
# `make test` (lint, migrations check and the whole suite). Both set everything up first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8081

.PHONY: run test smoke lint pytest assets messages migrate setup setup-dev worker beat clean

# Served as production serves it (bin/serve), on one process and the loopback.
run: setup assets migrate
	UVICORN=$(VENV)/bin/uvicorn APP_HOST=$(HOST) APP_PORT=$(PORT) APP_WORKERS=1 bin/serve

test: setup-dev assets lint pytest

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

pytest:
	$(PY) -m pytest

# Updates locale/en's catalogue from the code and templates (Russian is the source language;
# locale/ru holds only plural forms, kept by hand). Translate what it adds before committing.
messages: setup
	$(PY) manage.py makemessages --locale=en --extension=html,txt,py --no-obsolete \
		--ignore=.venv --ignore=node_modules --ignore=static --ignore=staticfiles --ignore=tests \
		--ignore=bench --ignore=smoke --ignore=screenshots --ignore=uploads

migrate:
	$(PY) manage.py migrate --noinput

# Both queues in one worker for development; production runs one worker per queue.
worker: setup
	$(VENV)/bin/celery -A config worker --queues=celery,media --loglevel=INFO

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

# Tailwind scans the templates, so the CSS is rebuilt on every run (about a second). The
# translation catalogues (locale/*/LC_MESSAGES/django.po) are compiled here too: the .mo files are
# build output, not kept in git (needs GNU gettext's msgfmt).
assets: setup node_modules/.installed
	npm run --silent build
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules --verbosity=0

# The production topology run natively (Caddy, the app as the Dockerfile starts it, Celery
# worker and beat, PostgreSQL and Redis from DATABASE_URL / REDIS_URL's servers, the fakes as the
# outside world); see smoke/README.md. Installs Debian's caddy and docker-compose when missing.
smoke: setup-dev assets
	bash smoke/run

clean:
	rm -rf $(VENV) node_modules static/dist static/vendor staticfiles .test-db.sqlite3
