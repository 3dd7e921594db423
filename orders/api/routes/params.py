"""The path and header parameters the routes share: the order id in the path, the Idempotency-Key, and
each command's path (its record's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path
from pydantic import AfterValidator

from domain.lifecycle import Action
from domain.registry import COMMANDS
from domain.text import ID_PATTERN, MAX_ID_LENGTH, printable_ascii

OrderId = Annotated[str, Path(alias="orderId", min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="1-128 printable ASCII characters without spaces. Repeat a call with the same key "
        "to get the first answer; nothing changes twice. Keys are yours alone: another caller's same "
        "key is another request.",
    ),
    AfterValidator(lambda key: None if key is None else printable_ascii(key)),
]


def rest_path(action: Action) -> str:
    """The command's VTEX path, as its record declares it (domain/registry.py)."""
    path = COMMANDS[action].rest
    assert path is not None, f"{action.value} has no REST path"
    return path
