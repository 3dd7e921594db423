# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
# Paths from this file's directory, so `make -f path/to/Makefile run` works from any directory.
ROOT := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT).venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit chaos bench bench-report bench-console bench-signin screenshots lint format clean

# The install prints nothing but errors: setuptools' "Editable installation" notice, which it emits as a
# warning on every editable install (its InformationOnly), is filtered out.
$(STAMP): $(ROOT)pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation:UserWarning" $(BIN)/pip install --quiet -e '$(ROOT).[dev]'
	@touch $(STAMP)

# The REST API on ORDERS_API_HOST:ORDERS_API_PORT (default 127.0.0.1:8000) and the worker (which starts
# the embedded Temporal) beside it. A taken port stops it at once, in one line; Ctrl-C stops both.
run: $(STAMP)
	@$(BIN)/python -m orders.run

# Every tier but chaos: unit, then the workflow on the time-skipping server, then end to end (the dev
# server, processes, HTTP, the browser, the CLI, the docs' examples). docs/development.md has the times.
test: $(STAMP)
	cd $(ROOT) && PATH="$(BIN):$$PATH" $(BIN)/pytest -rs tests/unit tests/workflow tests/e2e

# The pure tests (tests/unit/): the rules, the order, line items, reasons, the property tests and the
# replay of saved histories. No server, no process: seconds.
unit: $(STAMP)
	cd $(ROOT) && $(BIN)/pytest -q -rs tests/unit

# The slow fault tests (tests/chaos/: processes killed, servers restarted): see docs/reliability.md.
chaos: $(STAMP)
	cd $(ROOT) && PATH="$(BIN):$$PATH" $(BIN)/pytest -rs -m chaos tests/chaos

# Benchmarks against the floor (issue 24), billable actions per path, the 10k scale run and the report at
# 1k to 50k orders: see docs/performance.md. ARGS=--quick for a smoke run.
bench: $(STAMP)
	PATH="$(BIN):$$PATH" $(BIN)/python -m bench $(ARGS)

# The cancellation report at 1,000 to 50,000 orders in visibility, alone (ARGS=--report-sizes=1000,5000).
bench-report: $(STAMP)
	PATH="$(BIN):$$PATH" $(BIN)/python -m bench --only-report $(ARGS)

# The console's queue with 1,000 pending requests: see docs/performance.md ("Console").
bench-console: $(STAMP)
	PATH="$(BIN):$$PATH" $(BIN)/python -m bench.console $(ARGS)

# An API read alone and during a flood of console sign-ins, with and without the bound on password
# checks: see docs/performance.md ("Sign-in flood").
bench-signin: $(STAMP)
	PATH="$(BIN):$$PATH" $(BIN)/python -m bench.signin $(ARGS)

# docs/console-*.png and docs/customer-*.png, as the README and the docs show them (needs /usr/bin/chromium).
screenshots: $(STAMP)
	PATH="$(BIN):$$PATH" $(BIN)/python -m tests.console_screenshots
	PATH="$(BIN):$$PATH" $(BIN)/python -m tests.customer_screenshots

# ruff, and mypy --strict over domain/, workflows/, activities/, orders/, bench/ and worker.py (pyproject.toml).
lint: $(STAMP)
	cd $(ROOT) && $(BIN)/ruff format --check .
	cd $(ROOT) && $(BIN)/ruff check .
	cd $(ROOT) && $(BIN)/mypy

format: $(STAMP)
	cd $(ROOT) && $(BIN)/ruff format .
	cd $(ROOT) && $(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
