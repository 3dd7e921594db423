"""Every status, event and command has the words people read for it, whatever is added later."""

from __future__ import annotations

from domain.events import DESCRIBED, EventType
from domain.terms import DISPLAY_NAMES, PHRASES, Status


def test_every_status_has_its_display_name_and_phrase() -> None:
    assert set(DISPLAY_NAMES) == set(PHRASES) == set(Status)


def test_every_event_type_is_described() -> None:
    assert set(DESCRIBED) == set(EventType)
