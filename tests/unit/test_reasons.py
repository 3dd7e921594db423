"""The reason catalogue (docs/policy.md): built in, replaced by a TOML file, refused at start when malformed
with the line named, and its codes refused with the allowed list when a command gives one of another use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.lifecycle import Action, Refuse
from domain.reasons import BUILT_IN, LOCALES, Catalogue, CatalogueError, Use
from orders.settings import SettingsError, load_settings
from tests.kit.domain import PLACED, placed_order, send

GOOD = """\
[customer.changed-mind]
en = "Changed my mind"
pt-BR = "Mudei de ideia"
es = "Cambié de opinión"
shopify = "customer"

[customer.other]
en = "Other"
pt-BR = "Outro"
es = "Otro"

[store.other]
en = "Other"
pt-BR = "Outro"
es = "Otro"

[store.stock-error]
en = "Stock error"
pt-BR = "Erro de estoque"
es = "Error de stock"
shopify = "inventory"

[deny.other]
en = "Other"
pt-BR = "Outro"
es = "Otro"
"""


def catalogue_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reasons.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_built_in_catalogue_has_every_use_and_every_label() -> None:
    customer = ["changed-mind", "found-cheaper", "ordered-by-mistake", "delivery-too-slow", "other"]
    store = ["out-of-stock", "fraud-suspected", "customer-request", "payment-problem", "other"]
    assert (BUILT_IN.codes(Use.CUSTOMER), BUILT_IN.codes(Use.STORE)) == (customer, store)
    assert BUILT_IN.codes(Use.DENY) == ["already-shipped", "made-to-order", "other"]
    assert all(set(reason.labels) == set(LOCALES) for reason in BUILT_IN.reasons)
    assert BUILT_IN.label("already-shipped", Use.DENY, "pt-BR") == "Já enviado"


def test_a_toml_file_replaces_the_catalogue(tmp_path: Path) -> None:
    catalogue = Catalogue.from_toml(catalogue_file(tmp_path, GOOD))
    assert catalogue.codes(Use.STORE) == ["other", "stock-error"]
    assert catalogue.label("stock-error", Use.STORE, "es") == "Error de stock"
    assert catalogue.snapshot().store == {"other": "Other", "stock-error": "Stock error"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (GOOD + '\n[customer.changed-mind]\nen = "again"\n', "twice (at line 28"),  # a code twice
        (GOOD.replace('es = "Cambié de opinión"\n', ""), "line 1"),  # a label missing
        (GOOD + '\n[refund.other]\nen = "x"\npt-BR = "x"\nes = "x"\n', "[refund] is not a use"),
        (GOOD.replace("[deny.other]", "[deny.Other]"), "lowercase"),
        (GOOD.replace('shopify = "inventory"', 'shopify = "warehouse"'), "shopify must be one of"),
        (GOOD.replace("[store.other]", "[store.misc]"), "[store.other] is missing"),
        ("[customer.changed-mind\nen = 1\n", "line 1"),
    ],
)
def test_a_malformed_file_is_refused_with_the_line_named(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(CatalogueError, match=re.escape(named)):
        Catalogue.from_toml(catalogue_file(tmp_path, text))


def test_a_malformed_file_stops_the_start_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = catalogue_file(tmp_path, GOOD.replace('pt-BR = "Erro de estoque"\n', ""))
    monkeypatch.setenv("ORDERS_REASONS", str(path))
    with pytest.raises(SettingsError, match=r"stock-error\] needs a label for pt-BR"):
        load_settings()


def test_an_order_refuses_a_code_of_another_use_with_the_allowed_list() -> None:
    order = placed_order()
    wrong, events = send(
        order, Action.REQUEST_CANCELLATION, PLACED, actor="customer", reason_code="fraud-suspected"
    )
    assert isinstance(wrong, Refuse) and wrong.code == "reason-code" and events == []
    assert "changed-mind, found-cheaper, ordered-by-mistake, delivery-too-slow, other" in wrong.reason
    denied_code, _ = send(
        order, Action.REQUEST_CANCELLATION, PLACED, actor="store", reason_code="made-to-order"
    )
    assert isinstance(denied_code, Refuse) and "not a store reason" in denied_code.reason
    send(order, Action.REQUEST_CANCELLATION, PLACED, actor="customer", reason="late")
    assert order.state.cancellation is not None
    assert (order.state.cancellation.reason_code, order.state.cancellation.reason_label) == ("other", "Other")
