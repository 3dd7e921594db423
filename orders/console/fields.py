"""The console's form fields, bounded by the domain's own limits (domain/text.py, domain/wire.py): a form
refuses at once what a command would refuse later."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form

from domain.text import MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TEXT
from domain.wire import MAX_QUANTITY
from orders.console.actions import FORM_REQUEST_ID_LENGTH

RequestId = Annotated[str, Form(max_length=FORM_REQUEST_ID_LENGTH)]
ReasonCode = Annotated[str, Form(max_length=MAX_ID_LENGTH)]
Details = Annotated[str, Form(max_length=MAX_TEXT)]
Sku = Annotated[str, Form(max_length=MAX_NAME_LENGTH)]  # empty: the form named no line
Quantity = Annotated[int, Form(ge=1, le=MAX_QUANTITY)]
