"""The reason catalogue (docs/policy.md, "Reason codes"): the codes a reason may carry, by who may use
them, with labels.

Built in, or replaced by a TOML file (`ORDERS_REASONS`), one table per code:

    [customer.changed-mind]
    en = "Changed my mind"
    pt-BR = "Mudei de ideia"
    es = "Cambié de opinión"
    shopify = "customer"          # the report's bucket: Shopify's cancel reasons

Each order keeps the codes (with their English labels) it was placed with (`ReasonCodes`), as it keeps
its grace period: a catalogue edited later applies to new orders.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import StringConstraints

from domain.lifecycle import Actor
from domain.wire import WireModel

LOCALES = ("en", "pt-BR", "es")
SHOPIFY = ("customer", "declined", "fraud", "inventory", "staff", "other")
# Shopify's cancel reasons as the store's people say them (the console's report).
SHOPIFY_WORDS = {
    "customer": "The customer's choice",
    "declined": "Payment declined",
    "fraud": "Suspected fraud",
    "inventory": "Out of stock",
    "staff": "A store error",
    "other": "Other",
}
OTHER = "other"
PAYMENT_PROBLEM = "payment-problem"  # the store reason a payment timeout or denial is counted under
CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
ReasonCode = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]


class Use(StrEnum):
    """Who may give a reason with the code: a customer asking, the store canceling, the store denying."""

    CUSTOMER = "customer"
    STORE = "store"
    DENY = "deny"


@dataclass(frozen=True)
class Reason:
    code: str
    use: Use
    labels: dict[str, str]
    shopify: str = OTHER

    def label(self, locale: str = "en") -> str:
        return self.labels.get(locale) or self.labels["en"]


def _built_in() -> list[Reason]:
    rows = [
        (Use.CUSTOMER, "changed-mind", "customer", "Changed my mind", "Mudei de ideia", "Cambié de opinión"),
        (Use.CUSTOMER, "found-cheaper", "customer", "Found it cheaper elsewhere", "Encontrei mais barato",
         "Lo encontré más barato"),
        (Use.CUSTOMER, "ordered-by-mistake", "customer", "Ordered by mistake", "Pedi por engano",
         "Pedido por error"),
        (Use.CUSTOMER, "delivery-too-slow", "customer", "Delivery takes too long", "A entrega demora demais",
         "La entrega tarda demasiado"),
        (Use.CUSTOMER, OTHER, "other", "Other", "Outro", "Otro"),
        (Use.STORE, "out-of-stock", "inventory", "Out of stock", "Sem estoque", "Sin stock"),
        (Use.STORE, "fraud-suspected", "fraud", "Fraud suspected", "Suspeita de fraude",
         "Sospecha de fraude"),
        (Use.STORE, "customer-request", "customer", "Customer asked", "Pedido do cliente",
         "Pedido del cliente"),
        (Use.STORE, PAYMENT_PROBLEM, "declined", "Payment problem", "Problema no pagamento",
         "Problema con el pago"),
        (Use.STORE, OTHER, "other", "Other", "Outro", "Otro"),
        (Use.DENY, "already-shipped", "other", "Already shipped", "Já enviado", "Ya enviado"),
        (Use.DENY, "made-to-order", "other", "Made to order", "Feito sob encomenda", "Hecho por encargo"),
        (Use.DENY, OTHER, "other", "Other", "Outro", "Otro"),
    ]  # fmt: skip
    return [
        Reason(code, use, dict(zip(LOCALES, labels, strict=True)), shopify)
        for use, code, shopify, *labels in rows
    ]


class CatalogueError(ValueError):
    """A catalogue file that can't be used; the message names the line."""


@dataclass(frozen=True)
class Catalogue:
    reasons: list[Reason] = field(default_factory=_built_in)

    def codes(self, use: Use) -> list[str]:
        return [reason.code for reason in self.reasons if reason.use is use]

    def find(self, code: str, use: Use) -> Reason | None:
        return next((r for r in self.reasons if r.code == code and r.use is use), None)

    def label(self, code: str, use: Use, locale: str = "en") -> str:
        found = self.find(code, use)
        return found.label(locale) if found else code

    def snapshot(self) -> ReasonCodes:
        return ReasonCodes(
            customer={r.code: r.label() for r in self.reasons if r.use is Use.CUSTOMER},
            store={r.code: r.label() for r in self.reasons if r.use is Use.STORE},
            deny={r.code: r.label() for r in self.reasons if r.use is Use.DENY},
        )

    @classmethod
    def from_toml(cls, path: Path) -> Catalogue:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise CatalogueError(f"ORDERS_REASONS file {path}: can't be read ({err})") from None
        try:
            tables = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise CatalogueError(f"ORDERS_REASONS file {path}: {err}") from None
        reasons: list[Reason] = []
        for use_name, codes in tables.items():
            where = f"ORDERS_REASONS file {path}, line {_line_of(text, use_name)}"
            if use_name not in Use.__members__.values() or not isinstance(codes, dict):
                allowed = ", ".join(f"[{use.value}.CODE]" for use in Use)
                raise CatalogueError(f"{where}: [{use_name}] is not a use; tables are {allowed}")
            for code, entry in codes.items():
                reasons.append(_reason(Use(use_name), code, entry, f"{path}, line {_line_of(text, code)}"))
        for use in Use:
            if not any(r.use is use for r in reasons):
                raise CatalogueError(
                    f"ORDERS_REASONS file {path}: no [{use.value}.CODE] table; each use needs one"
                )
            if not any(r.use is use and r.code == OTHER for r in reasons):
                raise CatalogueError(
                    f"ORDERS_REASONS file {path}: [{use.value}.{OTHER}] is missing; "
                    "text-only callers are recorded with it"
                )
        return cls(reasons)


def _reason(use: Use, code: str, entry: object, where: str) -> Reason:
    if not re.fullmatch(CODE_PATTERN, code):
        raise CatalogueError(
            f"ORDERS_REASONS file {where}: code {code!r} must be lowercase letters, digits, '-'"
        )
    if not isinstance(entry, dict):
        raise CatalogueError(f"ORDERS_REASONS file {where}: [{use.value}.{code}] must be a table of labels")
    labels = {locale: entry.get(locale) for locale in LOCALES}
    missing = [locale for locale, label in labels.items() if not isinstance(label, str) or not label.strip()]
    if missing:
        raise CatalogueError(
            f"ORDERS_REASONS file {where}: [{use.value}.{code}] needs a label for {', '.join(missing)}"
        )
    shopify = entry.get("shopify", OTHER)
    if shopify not in SHOPIFY:
        raise CatalogueError(f"ORDERS_REASONS file {where}: shopify must be one of {', '.join(SHOPIFY)}")
    unknown = set(entry) - {*LOCALES, "shopify"}
    if unknown:
        raise CatalogueError(f"ORDERS_REASONS file {where}: unknown key {sorted(unknown)[0]!r}")
    return Reason(code, use, {locale: str(label) for locale, label in labels.items()}, str(shopify))


def _line_of(text: str, name: str) -> int:
    """The line where a table or key named `name` first appears (tomllib keeps no positions)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(rf"(^|[\[.\s]){re.escape(name)}([\].\s=]|$)", line):
            return number
    return 1


class ReasonCodes(WireModel):
    """The codes an order accepts, by use, with their English labels (the catalogue it was placed with)."""

    customer: dict[str, str] = {}
    store: dict[str, str] = {}
    deny: dict[str, str] = {}

    def of(self, use: Use) -> dict[str, str]:
        return {Use.CUSTOMER: self.customer, Use.STORE: self.store, Use.DENY: self.deny}[use]

    def refusal(self, code: str, use: Use) -> str | None:
        """Why `code` can't be given for `use`, with the codes that can; None if it can."""
        allowed = self.of(use)
        if code in allowed:
            return None
        return f"reason_code {code!r} is not a {use.value} reason; one of {', '.join(allowed)}"

    def label(self, code: str, use: Use) -> str:
        return self.of(use).get(code, code)


def request_use(actor: Actor) -> Use:
    """Whose codes a cancellation request's reason takes: the customer's own, or the store's."""
    return Use.CUSTOMER if actor is Actor.CUSTOMER else Use.STORE


BUILT_IN = Catalogue()
