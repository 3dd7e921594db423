"""The customer's "My orders" pages (SPEC §12, docs/customer-pages.md), served by the API under
`/my-orders`: `app` (the ASGI app and its error pages), `pages` (templates), `access` (tokens, guest
links, sessions), `language` and `words` (en, pt-BR, es), `actions` (the buttons and the commands they
send: the one action-specific module), `views` (what an order page shows), `limits` (rate limits) and
`routes`.
"""
