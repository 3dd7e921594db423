"""The customer pages' buttons: one for each command whose record gives the pages one
(domain/registry.py, `CustomerButton`), shown when the rules allow it (`domain.registry.decide`, as the
console's `views.buttons`); the words of each button, its confirming page and its outcome in three
languages; and how each form becomes a command.

Commands are sent through `OrdersClient.send` as actor `customer`, `sender` = the customer id,
`channel` = `my-orders`, and the form's `request_id` (made when the confirming page was drawn), so a
double click or a resubmitted form acts once (docs/customer-pages.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.commands import CancelItems
from domain.lifecycle import Action, Actor, Move, Outcome, Status
from domain.reasons import Catalogue, Use
from domain.registry import RECORDS, CommandRecord, decide
from domain.state import OrderState
from domain.text import MAX_REQUEST_ID_LENGTH, PRINTABLE
from domain.wire import Channel
from orders.client import new_request_id
from orders.customer.words import Phrase

Allowed = Callable[[Outcome, OrderState], bool]


@dataclass(frozen=True)
class CustomerAction:
    slug: str  # the path of its confirming page and its form: /my-orders/<orderId>/<slug>
    action: Action
    button: Phrase  # on the order page
    confirm: Phrase  # the confirming page's button (and its heading's verb)
    hint: Phrase  # what it will do, on the confirming page
    done: Phrase  # the outcome, once the order took it
    items: bool  # the form asks for a quantity per line
    allowed: Allowed  # whether the rules' answer for a customer shows it


def _cancels_at_once(outcome: Outcome, state: OrderState) -> bool:
    return isinstance(outcome, Move) and outcome.to is Status.CANCEL


def _waits_for_the_store(outcome: Outcome, state: OrderState) -> bool:
    return isinstance(outcome, Move) and outcome.to is Status.CANCELLATION_REQUESTED


def _items_may_go(outcome: Outcome, state: OrderState) -> bool:
    return isinstance(outcome, Move) and state.remaining_quantity > 0


def _moves(outcome: Outcome, state: OrderState) -> bool:
    return isinstance(outcome, Move)


@dataclass(frozen=True)
class Words:
    """A button's page path and words: the button, its confirming page's button, what it will do, the
    outcome."""

    slug: str
    button: Phrase
    confirm: Phrase
    hint: Phrase
    done: Phrase


# Each button's words, by its English label (the registry's `CustomerButton`).
WORDS: dict[str, Words] = {
    "Cancel order": Words(
        "cancel",
        {"en": "Cancel order", "pt-BR": "Cancelar pedido", "es": "Cancelar pedido"},
        {"en": "Yes, cancel order", "pt-BR": "Sim, cancelar pedido", "es": "Sí, cancelar pedido"},
        {
            "en": "The order is canceled at once and your payment is refunded or released.",
            "pt-BR": "O pedido é cancelado na hora e seu pagamento é estornado ou liberado.",
            "es": "El pedido se cancela al instante y tu pago se reembolsa o se libera.",
        },
        {
            "en": "Your order is canceled.",
            "pt-BR": "Seu pedido foi cancelado.",
            "es": "Tu pedido fue cancelado.",
        },
    ),
    "Request cancellation": Words(
        "request",
        {
            "en": "Request cancellation",
            "pt-BR": "Solicitar cancelamento",
            "es": "Solicitar cancelación",
        },
        {
            "en": "Yes, request cancellation",
            "pt-BR": "Sim, solicitar cancelamento",
            "es": "Sí, solicitar cancelación",
        },
        {
            "en": "The store has started on your order, so it decides: you will see its answer here.",
            "pt-BR": "A loja já começou a cuidar do pedido, então ela decide: a resposta aparece aqui.",
            "es": "La tienda ya empezó con tu pedido, así que decide ella: verás su respuesta aquí.",
        },
        {
            "en": "Your request was sent to the store.",
            "pt-BR": "Seu pedido foi enviado à loja.",
            "es": "Tu solicitud fue enviada a la tienda.",
        },
    ),
    "Cancel items": Words(
        "cancel-items",
        {"en": "Cancel items", "pt-BR": "Cancelar itens", "es": "Cancelar artículos"},
        {"en": "Yes, cancel items", "pt-BR": "Sim, cancelar itens", "es": "Sí, cancelar artículos"},
        {
            "en": "Inside the time to cancel, the items are canceled at once; after it, the store decides.",
            "pt-BR": "Dentro do prazo para cancelar, os itens são cancelados na hora; depois, a loja decide.",
            "es": "Dentro del plazo para cancelar, los artículos se cancelan al instante; después, decide la "
            "tienda.",
        },
        {
            "en": "Done: see the items below.",
            "pt-BR": "Feito: veja os itens abaixo.",
            "es": "Hecho: mira los artículos abajo.",
        },
    ),
}


def _action(record: CommandRecord[Any], label: str, allowed: Allowed) -> CustomerAction:
    words = WORDS[label]
    return CustomerAction(
        slug=words.slug,
        action=record.action,
        button=words.button,
        confirm=words.confirm,
        hint=words.hint,
        done=words.done,
        items=issubclass(record.model, CancelItems),
        allowed=allowed,
    )


def _actions() -> tuple[CustomerAction, ...]:
    """The buttons of the commands whose record gives the customer pages one (domain/registry.py)."""
    made: list[CustomerAction] = []
    for record in RECORDS:
        button = record.customer
        if button is None:
            continue
        if issubclass(record.model, CancelItems):
            made.append(_action(record, button.at_once, _items_may_go))
        elif button.asks is None:
            made.append(_action(record, button.at_once, _moves))
        else:
            made += [
                _action(record, button.at_once, _cancels_at_once),
                _action(record, button.asks, _waits_for_the_store),
            ]
    return tuple(made)


ACTIONS = _actions()
BY_SLUG = {action.slug: action for action in ACTIONS}


def offered(state: OrderState, now: datetime) -> list[CustomerAction]:
    """The buttons the rules allow the customer now, in the order they show."""
    situation = state.situation(at=now)
    return [a for a in ACTIONS if a.allowed(decide(situation, a.action, Actor.CUSTOMER), state)]


class FormProblem(ValueError):
    """A form that can't be sent as it is; `key` names the words that say why. Nothing was sent."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def request_id(given: str | None) -> str:
    """The form's request id, or a new one for a form that came without."""
    if given and PRINTABLE.fullmatch(given) and len(given) <= MAX_REQUEST_ID_LENGTH:
        return given
    return new_request_id()


def command(
    action: CustomerAction,
    state: OrderState,
    catalogue: Catalogue,
    customer_id: str,
    rid: str,
    reason_code: str,
    details: str,
    quantities: Sequence[tuple[str, int]],
) -> dict[str, object]:
    """The command a form sends: the customer's reason (a catalogue code, and the text typed or else the
    code's label) and, for items, each line's quantity (0 left out), at most what remains."""
    code = reason_code.strip()
    if code not in catalogue.codes(Use.CUSTOMER):
        raise FormProblem("choose_reason_error")
    payload: dict[str, object] = {
        "actor": Actor.CUSTOMER.value,
        "sender": customer_id,
        "channel": Channel.MY_ORDERS.value,
        "request_id": rid,
        "reason_code": code,
        "reason": details.strip() or catalogue.label(code, Use.CUSTOMER),
    }
    if action.items:
        remaining = state.remaining()
        chosen = [(sku, quantity) for sku, quantity in quantities if quantity > 0]
        if not chosen or any(quantity > remaining.get(sku, 0) for sku, quantity in chosen):
            raise FormProblem("choose_items_error")
        payload["items"] = [{"sku": sku, "quantity": quantity} for sku, quantity in chosen]
    return payload
