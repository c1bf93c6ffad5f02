# Apex Recovery: `make run` starts the portal with demo data on SQLite; `make test` runs the whole suite.
# `make test` uses SQLite unless DATABASE_URL is set (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/apex).

VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := clinic.settings

.PHONY: run test lint check venv clean bench bench-profile bench-floor

$(VENV)/installed: requirements.txt
	@PYTHON=$$(bin/find-python) || exit 1; \
	 echo "Using $$PYTHON ($$($$PYTHON --version))"; \
	 test -x $(PY) || $$PYTHON -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

venv: $(VENV)/installed

# The web server, the task worker and the sweep together (bin/dev-server); `make run PORT=8001` for another port.
PORT ?= 8000

run: venv
	DJANGO_DEBUG=true $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=true $(PY) manage.py seed_demo $(if $(DEMO_PASSWORD),--password "$(DEMO_PASSWORD)")
	@echo "Apex Recovery is starting on http://127.0.0.1:$(PORT)/ with its worker and clock (Ctrl+C stops all)."
	DJANGO_DEBUG=true PY=$(PY) PORT=$(PORT) bin/dev-server

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_DEBUG=true $(PY) manage.py makemigrations --check --dry-run

# The performance benchmark (docs/BENCHMARKS.md): a clinic of 10,000 patients on PostgreSQL (database apex_bench,
# kept between runs), the portal under gunicorn with production settings, loaded by wrk. Never part of make test.
bench: venv
	bench/run.sh

# Profile one page against the benchmark's database (after make bench): make bench-profile PAGE=progress
bench-profile: venv
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	bench/profile.sh $(or $(PAGE),today)

# What every signed-in page costs before its own work, against /healthz, in-process (after make bench)
bench-floor: venv
	bench/floor.sh

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
