"""Rendering the customer's pages: the Jinja2 environment (the console's, autoescape on for every
template, with its `shown` and `lines` filters for caller text) and `render`, which gives every page
the visitor's language (`language.Speaker`), who is signed in, the CSRF token and the flash messages
left by the last action."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from orders.console.pages import escaping
from orders.console.sessions import csrf_token, take_flashes
from orders.customer import access, language

PREFIX = "/my-orders"
HERE = Path(__file__).parent


def speaker(request: Request) -> language.Speaker:
    return language.Speaker(language.negotiate(request.headers.get("accept-language")))


def render(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the visitor's language, with who is signed in, the CSRF token and the last action's
    messages (kept for the next page when this one is an error)."""
    env: Environment = request.app.state.templates
    said = speaker(request)
    page = env.get_template(name).render(
        request=request,
        prefix=PREFIX,
        locale=said.locale,
        t=said.t,
        said=said,
        visitor=access.visitor(request),
        csrf=csrf_token(request),
        flashes=take_flashes(request) if code < 400 else [],
        **context,
    )
    response = HTMLResponse(page, code)
    response.headers["content-language"] = said.locale
    response.headers["vary"] = "Accept-Language, Cookie"
    return response


def message(request: Request, code: int, title: str, text: str, **values: object) -> HTMLResponse:
    said = speaker(request)
    return render(request, "message.html", code, title=said.t(title), message=said.t(text, **values))


def templates() -> Environment:
    env = escaping(HERE / "templates")
    env.filters["iso"] = language.iso
    env.globals["span"] = language.span
    return env
