"""What a caller may put in a text field (docs/api.md, "Bodies"; docs/reliability.md, "The trust boundary"),
as pydantic types.

Every field that reaches a person's terminal, a browser or an HTTP header is one of these, so a hostile
or careless value is refused at the door with the field named, before it can change an order.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

MAX_TEXT = 1000
MAX_TEXT_BYTES = 1000
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 64
MAX_REQUEST_ID_LENGTH = 128

# Order, customer and item ids: what Temporal workflow ids and HTTP headers carry without escaping.
ID_CHARS = r"[A-Za-z0-9._:-]"
ID_PATTERN = rf"^{ID_CHARS}+$"
ORDER_ID = re.compile(rf"{ID_CHARS}{{1,{MAX_ID_LENGTH}}}")
# Request ids and senders: printable ASCII without spaces (`!` to `~`), so they fit any header or log line.
PRINTABLE = re.compile(rf"[!-~]{{1,{MAX_REQUEST_ID_LENGTH}}}")

# Unicode Cc (C0, DEL, C1), and the bidirectional overrides and isolates that reorder what follows.
_C0_BUT_LINE_FEED, _C1, _BIDI = "\x00-\x09\x0b-\x1f", "\x7f-\x9f", "\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_C0_BUT_LINE_FEED}{_C1}{_BIDI}]")
_UNSAFE_OR_NEWLINE = re.compile(f"[{_C0_BUT_LINE_FEED}\n{_C1}{_BIDI}]")
# What JSON leaves raw but a terminal obeys.
RAW_IN_JSON = re.compile(f"[{_C1}{_BIDI}]")


def safe_text(value: str) -> str:
    """Refuse control characters (but line feed) and bidi overrides: they rewrite a terminal or a page."""
    found = _UNSAFE.search(value)
    if found is not None:
        raise ValueError(
            f"must not contain control characters or bidirectional overrides "
            f"(found U+{ord(found.group()):04X} at position {found.start()})"
        )
    return value


def shown(value: str) -> str:
    """`value` as a display may print it on one line: controls, line feeds and bidi overrides escaped.
    For text stored before its field was checked, and for whatever a display did not expect."""
    return _UNSAFE_OR_NEWLINE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


def within_bytes(value: str) -> str:
    """Stored text is bounded in bytes, as Temporal bounds what an order carries: a character may take 4."""
    size = len(value.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise ValueError(
            f"must be at most {MAX_TEXT_BYTES:,} bytes of UTF-8 ({MAX_TEXT_BYTES:,} plain letters, "
            f"fewer with accents or emoji); it is {size:,}"
        )
    return value


def shown_lines(value: str) -> str:
    """As `shown`, but line feeds kept: for a display that breaks lines itself (the console's reasons)."""
    return "\n".join(shown(line) for line in value.split("\n"))


def printable_ascii(value: str) -> str:
    if not PRINTABLE.fullmatch(value):
        raise ValueError(
            f"must be 1-{MAX_REQUEST_ID_LENGTH} printable ASCII characters ('!' to '~'), without spaces"
        )
    return value


Id = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)
]
RequestId = Annotated[str, AfterValidator(printable_ascii)]
# Who exactly sent a command within its actor: a user name, an app key, a customer id.
Sender = RequestId
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_TEXT),
    AfterValidator(safe_text),
    AfterValidator(within_bytes),
]
RequiredText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
    AfterValidator(safe_text),
    AfterValidator(within_bytes),
]
# Short names: a SKU, an invoice number, a payment method.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH),
    AfterValidator(safe_text),
]
