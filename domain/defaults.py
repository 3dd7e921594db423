"""The store's defaults for what an order is placed without (docs/configuration.md, "The store's rules"): each
can be set per store (`ORDERS_*`, orders/settings.py) and per order (`OrderInput`)."""

from __future__ import annotations

DAY, HOUR, MINUTE = 24 * 60 * 60, 60 * 60, 60

GRACE_PERIOD_SECONDS = 30 * MINUTE
DECISION_TIMEOUT_SECONDS = 30 * DAY
PAYMENT_TIMEOUT_SECONDS = 3 * DAY
MODIFICATION_PAYMENT_TIMEOUT_SECONDS = 2 * DAY  # a modification's higher value, waiting for its payment
REMINDER_OFFSETS = [7 * DAY, DAY, HOUR]  # before a pending request's decision deadline
MAX_REMINDERS = 10
