"""The business metrics an order reports through the SDK's metric meter, on the worker's Prometheus endpoint
(docs/policy.md, "Business metrics"): cancellations by path and reason code, item cancellations by reason
code, requests denied, how long the store took to decide, and events no retry could deliver. The SDK records
nothing while a history replays; what an order has already reported is taken from its state, so
continue-as-new reports nothing twice."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.state import OrderState
    from domain.visibility import decisions_of

CANCELLATIONS = "orders_cancellations"
ITEM_CANCELLATIONS = "orders_item_cancellations"  # some lines canceled while the order went on
DENIALS = "orders_requests_denied"
DECISION_SECONDS = "orders_decision_seconds"
EVENTS_FAILED = "orders_events_failed"
# Decision times run from minutes to the 30-day timeout: the histogram's buckets, in seconds.
DECISION_BUCKETS = [
    60.0,
    600.0,
    3600.0,
    6 * 3600.0,
    86400.0,
    3 * 86400.0,
    7 * 86400.0,
    14 * 86400.0,
    30 * 86400.0,
]


class Metrics:
    def __init__(self, state: OrderState | None) -> None:
        self._decisions = len(decisions_of(state)) if state else 0
        self._canceled = state is not None and state.cancellation is not None
        self._items = len(state.item_cancellations) if state else 0
        self._failed = len(state.failed_events) if state else 0

    def observe(self, state: OrderState) -> None:
        """Report what changed since the last look at the order."""
        meter = workflow.metric_meter()
        decisions = decisions_of(state)
        for decision in decisions[self._decisions :]:
            seconds = (decision.decided_at - decision.requested_at).total_seconds()
            meter.create_histogram_float(DECISION_SECONDS, "request to decision", "s").record(
                max(seconds, 0.0), {"outcome": decision.outcome}
            )
            if decision.outcome == "denied":
                meter.create_counter(DENIALS, "cancellation requests denied").add(
                    1, {"reason_code": decision.reason_code}
                )
        self._decisions = len(decisions)
        cancellation = state.cancellation
        if cancellation is not None and not self._canceled:
            self._canceled = True
            attributes = {"path": cancellation.path.value, "reason_code": cancellation.reason_code}
            meter.create_counter(CANCELLATIONS, "orders canceled").add(1, attributes)
        for items in state.item_cancellations[self._items :]:
            meter.create_counter(ITEM_CANCELLATIONS, "item cancellations applied").add(
                1, {"reason_code": items.reason_code}
            )
        self._items = len(state.item_cancellations)
        for failed in state.failed_events[self._failed :]:
            meter.create_counter(EVENTS_FAILED, "events no retry could deliver").add(
                1, {"type": failed.type.value}
            )
        self._failed = len(state.failed_events)
