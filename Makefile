# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
# Paths from this file's directory, so `make -f path/to/Makefile run` works from any directory.
ROOT := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT).venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit chaos bench bench-report bench-console screenshots lint format clean

$(STAMP): $(ROOT)pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '$(ROOT).[dev]'
	@touch $(STAMP)

# The REST API on ORDERS_API_HOST:ORDERS_API_PORT (default 127.0.0.1:8000) and the worker (which starts
# the embedded Temporal) beside it. A taken port stops it at once, in one line; Ctrl-C stops both.
run: $(STAMP)
	@$(BIN)/python -m orders.run

test: $(STAMP)
	PATH="$(BIN):$$PATH" $(BIN)/pytest

# The pure tests: the rules, the order, line items, reasons, the property tests and the replay of saved
# histories. No server, no process: seconds.
UNIT := tests/test_lifecycle.py tests/test_order.py tests/test_limits.py tests/test_items.py tests/test_reasons.py \
	tests/test_properties.py tests/test_replay.py
unit: $(STAMP)
	cd $(ROOT) && $(BIN)/pytest -q $(UNIT)

# The slow fault tests (processes killed, servers restarted): see docs/reliability.md.
chaos: $(STAMP)
	PATH="$(BIN):$$PATH" $(BIN)/pytest -m chaos

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

# docs/console-*.png, as the README shows them (needs /usr/bin/chromium).
screenshots: $(STAMP)
	PATH="$(BIN):$$PATH" $(BIN)/python -m tests.console_screenshots

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
