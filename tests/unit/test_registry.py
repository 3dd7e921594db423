"""The command registry (domain/registry.py): one record per command, and every door reads it."""

from __future__ import annotations

import re
import statistics
import typing

import pytest
from pydantic import TypeAdapter

from domain.commands import DenyCancellation, Readable, Unreadable
from domain.lifecycle import COMMANDS as COMMAND_ACTIONS
from domain.lifecycle import OWN_EVENTS, Actor, Situation, Status
from domain.registry import COMMANDS, RECORDS, decide
from orders.api import create_app
from orders.cli import cli
from orders.console.routes_order import BY_SLUG
from orders.console.views import slug_of
from orders.customer.actions import WORDS as CUSTOMER_WORDS
from orders.settings import Settings
from tests.kit.paths import ROOT
from workflows.order_workflow import OrderWorkflow

SOURCES = ("domain", "workflows", "activities", "orders", "worker.py")


def test_every_command_has_one_record_and_the_order_s_own_events_none() -> None:
    assert set(COMMANDS) == COMMAND_ACTIONS
    assert not set(COMMANDS) & OWN_EVENTS
    assert len(RECORDS) == len(COMMANDS)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.name)
def test_the_workflow_has_each_command_s_signal_and_update_hinted_with_its_model(record: typing.Any) -> None:
    signal = getattr(OrderWorkflow, f"{record.name}_signal")
    update = getattr(OrderWorkflow, record.name)
    for handler in (signal, update):
        assert typing.get_type_hints(handler)["payload"] == Readable[record.model]
    assert signal.__temporal_signal_definition.name == record.name
    assert update._defn.name == record.name and update._defn.validator is not None


def test_a_payload_that_doesn_t_fit_its_model_is_read_as_unreadable_naming_the_field() -> None:
    hint = TypeAdapter(Readable[DenyCancellation])
    read = hint.validate_json(b'{"actor": "store", "sender": "ana"}')
    assert isinstance(read, Unreadable) and "reason" in read.errors and read.sender.sender == "ana"
    for odd in (b'"text"', b"[1, 2]", b"42", b"null"):
        assert isinstance(hint.validate_json(odd), Unreadable), odd
    assert isinstance(hint.validate_json(b'{"actor": "store", "reason": "shipped"}'), DenyCancellation)


def test_every_record_s_doors_exist() -> None:
    verbs = set(cli.commands)
    paths = create_app(Settings(_env_file=None)).openapi()["paths"]  # type: ignore[call-arg]
    for record in RECORDS:
        if record.cli:
            assert record.cli.verb in verbs, record.name
        if record.rest:  # POST, or PATCH for VTEX's order modifications
            assert {"post", "patch"} & set(paths.get(record.rest, {})), record.name
        if record.console:
            assert BY_SLUG[slug_of(record)] is record
        if record.customer:
            labels = [record.customer.at_once, record.customer.asks]
            assert all(label in CUSTOMER_WORDS for label in labels if label), record.name


def test_who_may_send_a_command_comes_from_the_table_and_the_refusal_says_it_in_words() -> None:
    refused = decide(Situation(Status.READY_FOR_HANDLING), COMMANDS_BY_NAME["start_handling"], Actor.CUSTOMER)
    assert refused.reason == "only the store or the erp may start handling, not the customer"  # type: ignore[union-attr]


COMMANDS_BY_NAME = {record.name: record.action for record in RECORDS}


def files_naming(name: str) -> set[str]:
    """Source files that name a command: `Action.NAME`, or its wire name as a string."""
    pattern = re.compile(rf"Action\.{name.upper()}\b|[\"']{name}[\"']")
    found = set()
    for top in SOURCES:
        for path in [ROOT / top] if top.endswith(".py") else (ROOT / top).rglob("*"):
            if path.suffix in (".py", ".html") and pattern.search(path.read_text(encoding="utf-8")):
                found.add(str(path.relative_to(ROOT)))
    return found


def test_a_command_is_named_in_at_most_six_source_files_median() -> None:
    counts = {record.name: len(files_naming(record.name)) for record in RECORDS}
    print("source files naming each command:", counts)
    assert statistics.median(counts.values()) <= 6, counts


def test_the_lifecycle_doc_lists_every_command() -> None:
    doc = (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    table = doc[doc.index("## Commands") :]
    for record in RECORDS:
        assert f"| `{record.name}` | {record.title} |" in table, record.name
