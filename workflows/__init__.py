"""Temporal workflows: deterministic shells over the pure domain."""
