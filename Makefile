# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test chaos bench bench-console screenshots lint format clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The worker (which starts the embedded Temporal) and the REST API beside it; Ctrl-C stops both.
run: $(STAMP)
	@echo "Staff console: http://127.0.0.1:8000/console (first account: $(BIN)/orders console add-user NAME --role store)"
	@$(BIN)/orders serve-api & api=$$!; trap 'kill $$api 2>/dev/null' EXIT; $(BIN)/python worker.py

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest

# The slow fault tests (processes killed, servers restarted): see docs/reliability.md.
chaos: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -m chaos

# Benchmarks against the raw Temporal floor: see docs/performance.md. ARGS=--quick for a smoke run.
bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench $(ARGS)

# The console's queue with 1,000 pending requests: see docs/performance.md ("Console").
bench-console: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench.console $(ARGS)

# docs/console-*.png, as the README shows them (needs /usr/bin/chromium).
screenshots: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m tests.console_screenshots

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
