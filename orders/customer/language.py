"""The customer's language: chosen by `Accept-Language` among the reason catalogue's locales (SPEC §12),
English otherwise; the pages' words in it (`Speaker.t`), and money and times as people there write
them (Babel: `R$ 129,90`, `26 de nov. de 2026 10:00`).

Times are written in UTC on the server; the pages' script rewrites each `<time>` in the browser's own
time zone (docs/customer-pages.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from babel.dates import format_date, format_time
from babel.numbers import format_currency
from markupsafe import Markup

from domain.lifecycle import Status
from domain.reasons import LOCALES
from orders.customer.words import STATUS_WORDS, WORDS, Phrase

DEFAULT = "en"
MAX_ACCEPTED = 20  # language ranges read from one header: enough for any browser


def negotiate(header: str | None) -> str:
    """The first of the header's languages (by its q values) that the pages speak: an exact locale
    (`pt-BR`), else one of its language (`pt-PT` and `pt` read `pt-BR`); English when none."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")[:MAX_ACCEPTED]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, index, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        for locale in LOCALES:
            if tag == locale.lower() or tag.split("-")[0] == locale.lower().split("-")[0]:
                return locale
    return DEFAULT


def span(seconds: float) -> str:
    """Time left in its two largest units, zeros left out, the same in the three languages: `2 d 3 h`,
    `29 min 59 s`, `2 d`."""
    remaining, parts = max(0, int(seconds)), []
    for unit, label in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        value, remaining = divmod(remaining, unit)
        if value:
            parts.append(f"{value} {label}")
        if parts and (len(parts) == 2 or not value):
            break
    return " ".join(parts) or "0 s"


@dataclass(frozen=True)
class Speaker:
    """The pages' words, money and times in one locale."""

    locale: str

    @property
    def babel(self) -> str:
        return self.locale.replace("-", "_")

    def said(self, phrase: Phrase, **values: object) -> str:
        text = phrase.get(self.locale) or phrase[DEFAULT]
        return text.format(**values) if values else text

    def t(self, key: str, **values: object) -> str:
        return self.said(WORDS[key], **values)

    def status(self, status: Status) -> str:
        return self.said(STATUS_WORDS[status])

    def money(self, cents: int, currency: str) -> str:
        return str(format_currency(Decimal(cents) / 100, currency, locale=self.babel))

    def when(self, at: datetime | None) -> str:
        if at is None:
            return ""
        at, where = at.astimezone(UTC), self.babel
        return f"{format_date(at, 'medium', locale=where)} {format_time(at, 'HH:mm', locale=where)} UTC"

    def at(self, key: str, at: datetime | None, **values: object) -> Markup:
        """The phrase with its `{time}` as a `<time>` element (the page's script shows it in the
        browser's time zone); every part escaped."""
        before, _, after = self.t(key, time="\x00", **values).partition("\x00")
        return Markup('{}<time datetime="{}">{}</time>{}').format(before, iso(at), self.when(at), after)


def iso(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else ""
