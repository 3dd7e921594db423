"""The console's form fields, bounded by the domain's own limits (domain/text.py, domain/wire.py): a form
refuses at once what a command would refuse later."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form

from domain.commands import MODIFICATION_ID_LENGTH
from domain.text import MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TEXT
from domain.wire import MAX_ITEMS, MAX_QUANTITY
from orders.console.actions import FORM_REQUEST_ID_LENGTH

RequestId = Annotated[str, Form(max_length=FORM_REQUEST_ID_LENGTH)]
ReasonCode = Annotated[str, Form(max_length=MAX_ID_LENGTH)]
Details = Annotated[str, Form(max_length=MAX_TEXT)]
Sku = Annotated[str, Form(max_length=MAX_NAME_LENGTH)]  # empty: the form named no line
Quantity = Annotated[int, Form(ge=1, le=MAX_QUANTITY)]
# The `Modify order` form: how much to remove of each line (by sku), and one line to add with its price.
LineSkus = Annotated[list[str], Form(max_length=MAX_ITEMS)]
LineRemovals = Annotated[list[int], Form(max_length=MAX_ITEMS)]
AddQuantity = Annotated[int, Form(ge=0, le=MAX_QUANTITY)]
Price = Annotated[str, Form(max_length=20)]  # as people write it: 29.90
ModificationId = Annotated[str, Form(max_length=MODIFICATION_ID_LENGTH)]
