"""What the tests share, one module a subject; the fixtures themselves are in tests/conftest.py.

- paths: the repository's root, the saved histories, the installed commands.
- polling: `eventually`, the deadline every wait in the tests goes through.
- worker: one test's settings, a real worker polling its task queue, the events it delivered.
- orders: the order the tests place (through the client or the REST API) and `Shop`, the
  time-skipping server's view of it.
- domain: the same order as a pure `Order`, with no server.
- history: an order's runs and workflow history (task failures, settled, one chain of moves).
- api: the REST API on loopback with its credentials and tokens (`service`).
- cli: the `orders` and `temporal` commands run as subprocesses.
- console: the staff console on loopback, its accounts, orders waiting for the store.
- browser: the system's Chromium, as Playwright drives it.
- processes: `python worker.py` and `temporal server start-dev` as real processes.
- receiver: a real webhook receiver on loopback.
- faults: the flood and the stuck receiver the fault and chaos tests share.
- order_model: the pure model the property tests compare the workflow with.
- vtex_schema: VTEX's OpenAPI schema as a checker of the API's answers.
"""
