# The two commands: `make run` and `make test`. See README.md.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
export FLASK_APP := wsgi.py
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test check lint bench bench-national translations chromium clean lock audit

# Installs exactly the lock: every package, transitive ones included, pinned and checked by hash.
# requirements*.txt say what we ask for; `make lock` turns them into the .lock files (commit both).
# pip shows each package as it is fetched and installed (a first install takes about two minutes).
$(BIN)/.installed: requirements.lock requirements-dev.lock
	@echo "Installing Telecollect's packages into $(VENV) (first time: about two minutes)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --progress-bar on --require-hashes -r requirements-dev.lock
	touch $@

# After editing requirements*.txt. Keeps every other pin as it is; LOCK_ARGS="--upgrade" refreshes all,
# LOCK_ARGS="--upgrade-package NAME" one. The dev lock is constrained by the runtime lock: same versions.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 $(LOCK_ARGS)
lock: $(BIN)/.installed
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements.lock -o requirements-dev.lock

# Known vulnerabilities in the locked packages (pip-audit, PyPI's vulnerability data); see tools/audit.py.
# Fails on a known vulnerability not acknowledged in audit-ignore.txt; AUDIT_ARGS=--warn-if-unreachable
# (CI) turns "the service could not be reached" into a warning.
audit: $(BIN)/.installed
	$(BIN)/python tools/audit.py $(AUDIT_ARGS) requirements-dev.lock

translations: $(BIN)/.installed
	$(BIN)/pybabel compile -d telecollect/translations --statistics

# The app refuses to start without a secret key: unless SECRET_KEY is set, `make run` makes a random one
# once and keeps it in the instance folder (mode 0600), where the app reads it.
INSTANCE := $(or $(INSTANCE_PATH),instance)

# HOST and PORT choose where it listens (`PORT=8080 make run`). Ctrl+C stops the server and the scheduler
# and ends quietly: a server stopped by a signal (130, 143) is a normal end, not an error.
run: $(BIN)/.installed translations
	@if [ -z "$$SECRET_KEY" ] && [ ! -s "$(INSTANCE)/secret_key" ]; then \
	  mkdir -p "$(INSTANCE)" && (umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' \
	    > "$(INSTANCE)/secret_key") && echo "Made a secret key in $(INSTANCE)/secret_key"; fi
	@echo "Migrating the database..."
	$(BIN)/flask db upgrade
	@echo "Seeding the demo (two branches: Jakarta Utara, WIB, and Makassar, WITA) if the database is empty (about a minute the first time)..."
	$(BIN)/flask demo seed --if-empty --two-branches
	@echo "Starting Telecollect on http://$(HOST):$(PORT)/  (Ctrl+C stops it; the job scheduler runs beside it)"
	@$(BIN)/flask scheduler run > "$(INSTANCE)/scheduler.log" 2>&1 & scheduler=$$!; \
	  trap 'kill $$scheduler 2>/dev/null' EXIT; \
	  trap 'exit 0' INT TERM; \
	  $(BIN)/flask run --host $(HOST) --port $(PORT); status=$$?; \
	  case $$status in 0|130|143) echo "Telecollect stopped." ;; *) exit $$status ;; esac

# Browser tests drive Debian's Chromium; install it when missing (needs root).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) for the browser tests"; exit 1; fi; }

# One worker per CPU core (pytest-xdist); each worker has PostgreSQL and SQLite databases of its own.
PYTEST_ARGS ?= -n auto
test: $(BIN)/.installed translations chromium check
	$(BIN)/pytest $(PYTEST_ARGS)

# Lint, format, import contracts and types (README.md, "Checks"). Runs them all, then fails if any failed.
check: $(BIN)/.installed
	@status=0; \
	echo "ruff check"; $(BIN)/ruff check --output-format concise . || status=1; \
	echo "ruff format --check"; $(BIN)/ruff format --check --output-format concise . || status=1; \
	echo "lint-imports"; $(BIN)/lint-imports || status=1; \
	echo "mypy"; $(BIN)/mypy || status=1; \
	exit $$status

# Let ruff fix what it can by itself (import order, pyupgrade, ...) and format the code.
lint: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BIN)/.installed translations
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The national-scale benchmark alone (PostgreSQL; its own database, resumable):
# `make bench-national BENCH_ARGS="--scale 1.0"` (10 M participants, 50 M attempts, ~20 GB).
bench-national: $(BIN)/.installed translations
	$(BIN)/python -m bench.national $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance bench/out .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
