"""`python -m bench`: cancellations against the raw Temporal floor, and thousands of open orders.

See docs/performance.md for what is measured, how, and the figures of a full run.
"""
