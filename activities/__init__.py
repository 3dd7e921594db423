"""Side effects: delivering an order's events to the merchant's systems (docs/events.md)."""
