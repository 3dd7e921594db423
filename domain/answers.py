"""Idempotency (docs/lifecycle.md): a repeated request is answered as the first one was, and changes nothing.

A request is named by `(actor, sender, request_id)`: the same id from a customer and from the ERP are two
requests, and neither is ever answered with the other's result. The answer to a command that changed the
order is kept for the order's whole life (their number is bounded by the order's own limits); answers
to commands that changed nothing are kept for the last `MAX_UNCHANGED` only, since forgetting them can't
make a retry act twice.
"""

from __future__ import annotations

from domain.commands import Command
from domain.lifecycle import Action, Outcome, Refuse, Stay
from domain.registry import COMMANDS
from domain.wire import WireModel

MAX_UNCHANGED = 200


class Answer(WireModel):
    action: Action
    changed: bool = False
    refused: bool = False
    reason: str = ""
    code: str = ""


def key_of(command: Command) -> str | None:
    """The request's name; request ids and senders have no spaces, so the key is unambiguous."""
    if command.request_id is None:
        return None
    return f"{command.actor.value} {command.sender or ''} {command.request_id}"


class Answers(WireModel):
    changed: dict[str, Answer] = {}
    unchanged: dict[str, Answer] = {}

    def first(self, command: Command) -> Answer | None:
        key = key_of(command)
        if key is None:
            return None
        return self.changed.get(key) or self.unchanged.get(key)

    def repeat(self, command: Command, action: Action) -> Outcome | None:
        """The first answer again, if this request was seen; None if it is new."""
        first = self.first(command)
        if first is None:
            return None
        if first.action is not action:
            record = COMMANDS.get(first.action)
            what = f"to {record.title}" if record else "for another command"
            return Refuse(f"request id {command.request_id} was already used {what}", "request-id-reused")
        if first.refused:
            return Refuse(first.reason, first.code)
        if first.changed:
            return Stay(f"already applied (request id {command.request_id})")
        return Stay(first.reason)

    def remember(self, command: Command, action: Action, outcome: Outcome, *, changed: bool) -> None:
        key = key_of(command)
        if key is None:
            return
        if isinstance(outcome, Refuse):
            answer = Answer(action=action, refused=True, reason=outcome.reason, code=outcome.code)
        else:
            answer = Answer(action=action, changed=changed, reason="" if changed else outcome.note)
        if changed:
            self.changed[key] = answer
            return
        self.unchanged[key] = answer
        while len(self.unchanged) > MAX_UNCHANGED:
            del self.unchanged[next(iter(self.unchanged))]
