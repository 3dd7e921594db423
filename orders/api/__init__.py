"""The REST API (VTEX's Orders API paths for cancellation): `create_app` builds it, `server.serve` runs it."""

from orders.api.app import create_app

__all__ = ["create_app"]
