"""The data converter every client and worker of the orders uses: pydantic's JSON
(`temporalio.contrib.pydantic`), with one set of payload converters shared by all its copies.

The SDK makes a fresh copy of the data converter for every workflow activation it decodes and every
completion it encodes, and each copy builds its payload converter anew: pydantic's builds a new cache
of type adapters, so every activation built the type adapters of its payloads again
(docs/performance.md, "Where the worker's time goes"). Here every copy reuses the same converters.
"""

from __future__ import annotations

from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import CompositePayloadConverter, DataConverter


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    """`PydanticPayloadConverter`, its converters (and their type adapter cache) made once."""

    def __init__(self) -> None:
        CompositePayloadConverter.__init__(self, *_SHARED.converters.values())


_SHARED = PydanticPayloadConverter()
DATA_CONVERTER = DataConverter(payload_converter_class=SharedPydanticPayloadConverter)
