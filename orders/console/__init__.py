"""The staff console (docs/console.md): the queue of cancellation requests, orders and the report in a
browser, served by the API process under `/console`. `orders.console.app.console_app` builds it; `users` (the
accounts file) has no web imports, so the `orders console` CLI group loads it cheaply."""
