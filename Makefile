# promoplan — the two commands of the README are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
# The suite runs on every core (pytest-xdist), each worker with its own database and whole
# test files; `make test PYTEST_ARGS=` runs it in one process.
PYTEST_ARGS ?= -n auto --dist loadfile
HOST   ?= 127.0.0.1
PORT   ?= 5000
DEMO_PASSWORD ?= promoplan-demo

.PHONY: demo setup install install-dev translations db serve scheduler test test-js test-postgres screenshots bench bench-postgres lint format clean

## demo: install, migrate, create roles, load the Supertoy demo and serve it on http://127.0.0.1:5000
demo: setup
	$(FLASK) seed-demo --password "$(DEMO_PASSWORD)"
	@echo "promoplan runs on http://$(HOST):$(PORT)  (logins: see README.md)"
	$(FLASK) run --host $(HOST) --port $(PORT)

## setup: everything but the demo data and the server
setup: install translations db

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

translations: $(BIN)/python
	$(BIN)/pybabel compile -d translations

db:
	$(FLASK) db upgrade
	$(FLASK) init-roles

serve:
	$(FLASK) run --host $(HOST) --port $(PORT)

## scheduler: the one scheduler process (outbox every minute, daily and weekly digests)
scheduler:
	$(FLASK) scheduler

## test-js: Mozilla's ical.js (pinned) for the calendar-feed tests; needs node and npm
test-js:
	@if command -v npm >/dev/null 2>&1; then cd tests/js && npm ci --no-audit --no-fund --silent; \
	else echo "npm not found: the ical.js feed check is skipped outside CI (apt install nodejs npm)"; fi

## test: the whole suite on SQLite (set TEST_DATABASE_URL for PostgreSQL)
test: install-dev translations test-js
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-postgres: the suite on a throw-away PostgreSQL database (server at 127.0.0.1:5432)
test-postgres: install-dev translations test-js
	bash .ci/with-postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

## screenshots: every customer and promoter page at 375×667 and 1366×900, German and English, in
## docs/screenshots/gallery/ (not committed); the README's selection in docs/screenshots/
screenshots: install-dev translations
	SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/test_browser_layout.py tests/test_browser.py \
		tests/test_browser_questionnaires.py tests/test_browser_report.py tests/test_browser_report_review.py \
		tests/test_browser_reporting.py

## bench: bench-data, load test and fault checks on SQLite (bench/README.md); bench-postgres likewise
bench: install-dev translations
	bash bench/run.sh sqlite

bench-postgres: install-dev translations
	bash bench/run.sh postgresql

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
