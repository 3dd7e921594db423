"""The customer's "My orders" pages over HTTP (no browser), against the dev server, a real worker and the
API on loopback: the trust rules of SPEC §9 and §12 at the pages' door. Tokens (expired, tampered,
signed out, a guest link's on another path), another customer's order (the unknown order's 404, same
page), CSRF, escaping of what customers and the store wrote, a resubmitted form, the rate limit, guest
links from the CLI and REST, and the pages switched off. The browser's view is in
tests/test_customer_browser.py.
"""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from domain.wire import Channel
from orders.api import create_app
from orders.customer.limits import COMMANDS_PER_MINUTE
from tests.kit.api import ERP, PVT, STOREFRONT, customer_token, serving
from tests.kit.cli import cli_environment, in_thread
from tests.kit.customer import (
    CSRF,
    REQUEST_ID,
    Shop,
    customer_id,
    form_value,
    shop_service,
    sign_in_path,
    token,
)
from tests.kit.paths import ORDERS as ORDERS_CLI
from tests.kit.worker import settings_for

SCRIPT = "<script>alert(1)</script>"


@pytest_asyncio.fixture(scope="module")
async def shop(dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    async with shop_service(dev_env.client, tmp_path_factory.mktemp("my-orders")) as service:
        yield service


def browser(shop: Shop, language: str = "en") -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=shop.url, headers={"Accept-Language": language}, timeout=20)


async def signed_in(http: httpx.AsyncClient, customer: str) -> httpx.Response:
    answer = await http.get(sign_in_path(customer))
    assert answer.status_code == 303 and answer.headers["location"] == "/my-orders/", answer.text
    return answer


async def submit(http: httpx.AsyncClient, order_id: str, slug: str, **fields: object) -> httpx.Response:
    page = await http.get(f"/my-orders/{order_id}/{slug}")
    assert page.status_code == 200, page.text
    form = {"csrf": form_value(CSRF, page.text), "request_id": form_value(REQUEST_ID, page.text)} | fields
    return await http.post(f"/my-orders/{order_id}/{slug}", data=form)


async def test_sign_in_takes_the_token_out_of_the_address_and_sets_a_lax_cookie_no_longer_than_it(
    shop: Shop,
) -> None:
    who = customer_id()
    async with browser(shop) as http:
        answer = await http.get(sign_in_path(who, expires_in=600))
        assert answer.status_code == 303 and answer.headers["location"] == "/my-orders/"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/my-orders" in cookie
        max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
        assert 590 <= max_age <= 600  # the token's lifetime, not the console's 12 hours
        listed = await http.get("/my-orders/")
        assert listed.status_code == 200 and "<h1>My orders</h1>" in listed.text


async def test_the_list_shows_the_customers_orders_newest_first_and_never_anothers(shop: Shop) -> None:
    who, other = customer_id(), customer_id()
    first = await shop.place(who)
    second = await shop.place(who, total=5000, items=[{"sku": "C3", "quantity": 1, "price": 5000}])
    theirs = await shop.place(other)
    async with browser(shop) as http:
        await signed_in(http, who)
        page = (await http.get("/my-orders/")).text
        assert f"Order {second}</a>" in page and f"Order {first}</a>" in page and theirs not in page
        assert page.index(second) < page.index(first)
        assert ("Confirmed, can still be canceled" in page and "R$" in page) or "BRL" in page


async def test_another_customers_order_is_the_unknown_orders_404_page(shop: Shop) -> None:
    who, other = customer_id(), customer_id()
    theirs = await shop.place(other)
    async with browser(shop) as http:
        await signed_in(http, who)
        foreign = await http.get(f"/my-orders/{theirs}")
        unknown = await http.get("/my-orders/no-such-order-here")
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.text.replace(theirs, "X") == unknown.text.replace("no-such-order-here", "X")
        assert theirs not in foreign.text and other not in foreign.text
        for path in (f"/my-orders/{theirs}/cancel", f"/my-orders/{theirs}/version"):
            assert (await http.get(path)).status_code == 404


async def test_expired_tampered_and_guest_tokens_get_a_page_that_says_so_never_data(shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    signed = token(who)
    head, body, signature = signed.split(".")
    tampered = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    guest = shop.guest_path(order_id, who).split("access=")[1]
    cases = {
        token(who, expires_in=-60): "has expired",
        tampered: "is not valid",
        token(who, secret="another-secret-that-is-long-enough-0123456789"): "is not valid",
        guest: "is not valid",  # a guest link's token is not a customer's sign-in
        "not-a-jwt": "is not valid",
    }
    async with browser(shop) as http:
        for bad, says in cases.items():
            answer = await http.get(f"/my-orders/sign-in?token={bad}")
            assert answer.status_code == 401 and says in answer.text, (bad, answer.text)
            assert order_id not in answer.text
        assert (await http.get("/my-orders/")).status_code == 401  # still nobody
        assert (await http.get(f"/my-orders/{order_id}")).status_code == 401
    # The customer endpoint takes no guest token either.
    async with httpx.AsyncClient(base_url=shop.url) as api:
        answer = await api.get("/api/oms/user/orders", headers={"Authorization": f"Bearer {guest}"})
        assert answer.status_code == 401


async def test_sign_out_ends_the_session_for_good_and_the_token_cant_be_replayed(shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    path = sign_in_path(who)
    async with browser(shop) as http:
        assert (await http.get(path)).status_code == 303
        page = await http.get(f"/my-orders/{order_id}")
        kept = dict(http.cookies)
        out = await http.post("/my-orders/sign-out", data={"csrf": form_value(CSRF, page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/my-orders/signed-out"
        assert "You are signed out." in (await http.get("/my-orders/signed-out")).text
        replayed = await http.get(path)
        assert replayed.status_code == 401 and "You signed out with this link" in replayed.text
    async with browser(shop) as again:  # the old cookie, kept from before signing out
        again.cookies.update(kept)
        answer = await again.get(f"/my-orders/{order_id}")
        assert answer.status_code == 401 and order_id not in answer.text.replace(f"/my-orders/{order_id}", "")


async def test_signing_out_ends_every_session_that_came_in_with_the_same_link(shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    link = shop.guest_path(order_id, who)
    async with browser(shop) as mine, browser(shop) as copied:  # the link opened twice (forwarded, say)
        assert (await mine.get(link)).status_code == 303 and (await copied.get(link)).status_code == 303
        page = await mine.get(f"/my-orders/{order_id}")
        assert (
            await mine.post("/my-orders/sign-out", data={"csrf": form_value(CSRF, page.text)})
        ).status_code == 303
        assert (await copied.get(f"/my-orders/{order_id}")).status_code == 401


async def test_a_guest_link_opens_its_order_only_and_cant_be_moved_to_another_path(shop: Shop) -> None:
    who = customer_id()
    order_id, other_order = await shop.place(who), await shop.place(who)
    link = shop.guest_path(order_id, who)
    async with browser(shop) as http:
        moved = link.replace(f"/my-orders/{order_id}?", f"/my-orders/{other_order}?")
        assert (await http.get(moved)).status_code == 404
        answer = await http.get(link)
        assert answer.status_code == 303 and answer.headers["location"] == f"/my-orders/{order_id}"
        assert (await http.get(f"/my-orders/{order_id}")).status_code == 200
        assert (await http.get(f"/my-orders/{other_order}")).status_code == 404  # the same customer's
        assert (await http.get("/my-orders/")).headers["location"] == f"/my-orders/{order_id}"
        tampered = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
        assert (await http.get(tampered)).status_code == 401


async def test_a_customer_id_no_order_can_have_is_refused_at_once(shop: Shop) -> None:
    """A control character in a token's `sub` or a customer filter never reaches visibility's query."""
    async with browser(shop) as http:
        for sub in ("c-9\x00", "c 9", 'c"9'):
            answer = await http.get("/api/oms/user/orders", headers=customer_token(sub))
            assert answer.status_code == 401 and "sub must be" in answer.text, (sub, answer.text)
        listed = await http.get(f"{PVT}?f_customer=c-9%00", headers=ERP)
        assert listed.status_code == 422 and "f_customer" in listed.text


async def test_every_post_needs_the_csrf_token(shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    async with browser(shop) as http:
        await signed_in(http, who)
        form = {"reason_code": "changed-mind", "request_id": "r-forged"}
        for path in (f"/my-orders/{order_id}/cancel", "/my-orders/sign-out"):
            answer = await http.post(path, data=form)
            assert answer.status_code == 403 and "Reload the page" in answer.text
        assert (await shop.orders.state(order_id)).status is Status.WINDOW_TO_CANCEL
        assert (await http.get("/my-orders/")).status_code == 200  # still signed in


async def test_cancel_inside_the_window_acts_once_for_a_resubmitted_form_and_says_where_it_came_from(
    shop: Shop,
) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    async with browser(shop) as http:
        await signed_in(http, who)
        page = await http.get(f"/my-orders/{order_id}/cancel")
        form = {
            "csrf": form_value(CSRF, page.text),
            "request_id": form_value(REQUEST_ID, page.text),
            "reason_code": "found-cheaper",
            "details": "saw it for less",
        }
        first = await http.post(f"/my-orders/{order_id}/cancel", data=form)
        again = await http.post(f"/my-orders/{order_id}/cancel", data=form)  # a double click
        assert first.status_code == again.status_code == 303
        shown = (await http.get(f"/my-orders/{order_id}")).text
        assert "Your order is canceled." in shown
    state = await shop.orders.state(order_id)
    assert state.status in (Status.CANCEL, Status.CANCELED)
    assert len(state.cancellation_requests) == 1
    request = state.cancellation_requests[0]
    assert (request.actor.value, request.sender, request.channel) == ("customer", who, Channel.MY_ORDERS)
    assert request.reason == "saw it for less" and request.reason_code == "found-cheaper"


async def test_reasons_skus_and_the_stores_denial_are_escaped(shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.pending(
        who, reason=SCRIPT, items=[{"sku": "<b>x</b>", "quantity": 1, "price": 12990}]
    )
    deny = {"actor": "store", "sender": "alice", "reason": f"no {SCRIPT}", "reason_code": "already-shipped"}
    await shop.orders.send(order_id, Action.DENY_CANCELLATION, deny)
    async with browser(shop) as http:
        await signed_in(http, who)
        page = (await http.get(f"/my-orders/{order_id}")).text
    assert "<script>alert" not in page and "<b>x</b>" not in page
    assert html.escape(SCRIPT, quote=False) in page  # the customer's own reason, as text
    assert f"no {html.escape(SCRIPT, quote=False)}" in page  # the store's denial, as text
    assert "&lt;b&gt;x&lt;/b&gt;" in page


async def test_a_request_after_the_window_waits_for_the_store_with_its_deadline(shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.past_window(who)
    async with browser(shop, "pt-BR") as http:
        await signed_in(http, who)
        page = (await http.get(f"/my-orders/{order_id}")).text
        assert "Solicitar cancelamento" in page and "Cancelar pedido" not in page
        answer = await submit(http, order_id, "request", reason_code="delivery-too-slow")
        assert answer.status_code == 303
        page = (await http.get(f"/my-orders/{order_id}")).text
    assert "Aguardando a loja" in page and "Seu pedido foi enviado à loja." in page
    state = await shop.orders.state(order_id)
    assert state.status is Status.CANCELLATION_REQUESTED and state.decision_deadline is not None


async def test_items_are_canceled_by_quantity_per_line_and_a_bad_quantity_sends_nothing(shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    async with browser(shop) as http:
        await signed_in(http, who)
        page = (await http.get(f"/my-orders/{order_id}/cancel-items")).text
        assert "Quantity of A1" in page and "Quantity of B7" in page
        too_many = await submit(
            http, order_id, "cancel-items", reason_code="changed-mind", sku=["A1", "B7"], quantity=["3", "0"]
        )
        assert too_many.headers["location"] == f"/my-orders/{order_id}/cancel-items"
        assert (await shop.orders.state(order_id)).canceled_items == {}
        done = await submit(
            http, order_id, "cancel-items", reason_code="changed-mind", sku=["A1", "B7"], quantity=["1", "0"]
        )
        assert done.status_code == 303
        page = (await http.get(f"/my-orders/{order_id}")).text
    state = await shop.orders.state(order_id)
    assert state.canceled_items == {"A1": 1} and state.status is Status.WINDOW_TO_CANCEL
    assert "Canceled and refunded" in page or "Canceled (you won" in page


async def test_the_rate_limit_counts_a_sessions_forms(shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    async with browser(shop) as http:
        await signed_in(http, who)
        page = await http.get(f"/my-orders/{order_id}/cancel")
        form = {"csrf": form_value(CSRF, page.text), "request_id": "r-limit", "reason_code": "nonsense"}
        answers = [
            (await http.post(f"/my-orders/{order_id}/cancel", data=form)).status_code
            for _ in range(COMMANDS_PER_MINUTE + 1)
        ]
        assert answers[:-1] == [303] * COMMANDS_PER_MINUTE and answers[-1] == 429
        await signed_in(http, who)  # signing in again starts no new count
        fresh = form_value(CSRF, (await http.get(f"/my-orders/{order_id}/cancel")).text)
        late = await http.post(f"/my-orders/{order_id}/cancel", data=form | {"csrf": fresh})
        assert late.status_code == 429 and int(late.headers["retry-after"]) >= 1
    assert (await shop.orders.state(order_id)).status is Status.WINDOW_TO_CANCEL


async def test_guest_links_from_the_cli_and_rest_open_their_order(
    shop: Shop, dev_env: WorkflowEnvironment
) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    environment = cli_environment(dev_env, shop.settings) | {
        "ORDERS_CUSTOMER_TOKEN_SECRET": shop.settings.customer_token_secret.get_secret_value(),  # type: ignore[union-attr]
        "ORDERS_PUBLIC_URL": shop.url,
    }
    made = await in_thread(ORDERS_CLI, "customer-link", order_id, "--ttl", "2d", "--json", env=environment)
    assert made.returncode == 0, made.stderr
    url = json.loads(made.stdout)["url"]
    assert url.startswith(f"{shop.url}/my-orders/{order_id}?access=")
    missing = await in_thread(ORDERS_CLI, "customer-link", "no-such-order", env=environment)
    assert missing.returncode == 3
    too_long = await in_thread(ORDERS_CLI, "customer-link", order_id, "--ttl", "31d", env=environment)
    assert too_long.returncode == 2
    async with httpx.AsyncClient(base_url=shop.url) as api:
        link = f"{PVT}/{order_id}/customer-link"
        made_rest = await api.post(link, json={"ttlSeconds": 3600}, headers=ERP)
        assert made_rest.status_code == 200, made_rest.text
        assert (await api.post(link, headers=STOREFRONT)).status_code == 403
        assert (await api.post(f"{PVT}/no-such-order/customer-link", headers=ERP)).status_code == 404
        assert (await api.post(link, json={"ttlSeconds": 40 * 86400}, headers=ERP)).status_code == 422
    for minted in (url, made_rest.json()["url"]):
        async with httpx.AsyncClient() as http:
            answer = await http.get(minted)
            assert answer.status_code == 303
            page = await http.get(f"{shop.url}{answer.headers['location']}")
            assert page.status_code == 200 and f"Order {order_id}" in page.text


async def test_pages_off_answer_404_everywhere(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, customer_pages="off", customer_token_secret="s" * 32)
    assert settings.customer_pages is False
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        for path in ("/my-orders/", "/my-orders", f"/my-orders/sign-in?token={token('c')}", "/my-orders/x",
                     "/my-orders/static/my-orders.js"):  # fmt: skip
            assert (await http.get(path)).status_code == 404, path
        assert (await http.post("/my-orders/sign-out")).status_code == 404


def test_the_phrases_are_said_in_every_language() -> None:
    from domain.reasons import LOCALES
    from orders.customer.actions import ACTIONS
    from orders.customer.words import STATUS_WORDS, WORDS

    phrases = [*WORDS.values(), *STATUS_WORDS.values()]
    phrases += [p for a in ACTIONS for p in (a.button, a.confirm, a.hint, a.done)]
    assert all(set(phrase) == set(LOCALES) and all(phrase.values()) for phrase in phrases)


def test_the_language_follows_accept_language() -> None:
    from orders.customer.language import negotiate

    assert negotiate("pt-BR,pt;q=0.9,en;q=0.8") == "pt-BR"
    assert negotiate("pt-PT") == "pt-BR" and negotiate("es-MX,es;q=0.9") == "es"
    assert (
        negotiate("de-DE,fr;q=0.9") == "en" and negotiate(None) == "en" and negotiate("garbage;q=x") == "en"
    )
    assert negotiate("en;q=0.1, es;q=0.5") == "es"
