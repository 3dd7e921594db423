"""The path and header parameters the routes share: the order id in the path and the Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path

from domain.text import ID_PATTERN, MAX_ID_LENGTH

OrderId = Annotated[str, Path(alias="orderId", min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="repeat a call with the same key to get the first answer; nothing changes twice",
    ),
]
