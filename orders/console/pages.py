"""Rendering the console's pages: the Jinja2 environment (autoescape on for every template, the `shown`
filter for text a caller wrote, `lines` for reasons, which keep their line feeds) and `render`, which
gives every page the signed-in user, the session's CSRF token and the flash messages left by the last
action."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.lifecycle import Status
from domain.spans import fmt_span
from domain.text import shown, shown_lines
from orders.console import roles, views
from orders.console.auth import current_staff
from orders.console.sessions import csrf_token, take_flashes

HERE = Path(__file__).parent
PREFIX = "/console"
FETCH_HEADER = "x-console-fetch"  # sent by console.js: answer 401 rather than the sign-in page


def escaping(directory: Path) -> Environment:
    """Templates from `directory` with autoescape on for every one, and the filters for caller text:
    `shown` (one line, controls escaped) and `lines` (line feeds kept). The customer's pages use it too."""
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["shown"] = lambda value: shown(str(value)) if value is not None else ""
    # Text a customer may write on several lines (docs/console.md, "Security"): line feeds kept as breaks.
    env.filters["lines"] = lambda value: shown_lines(str(value)) if value is not None else ""
    return env


def templates() -> Environment:
    env = escaping(HERE / "templates")
    env.filters["money"] = views.money
    env.filters["when"] = views.when
    env.filters["iso"] = views.iso
    env.filters["at"] = views.at
    env.filters["span"] = fmt_span
    env.globals["prefix"] = PREFIX
    env.globals["Status"] = Status
    env.globals["may_act"] = roles.may_act  # buttons shown; the routes check it again (roles.py)
    env.globals["views"] = views
    env.globals["span"] = lambda seconds: "—" if seconds is None else fmt_span(seconds)
    return env


def render(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    """A full page: the template with the signed-in user, the CSRF token and the flash messages."""
    env: Environment = request.app.state.templates
    page = env.get_template(name).render(
        request=request,
        staff=current_staff(request),
        csrf=csrf_token(request),
        flashes=take_flashes(request) if shows_flashes(code, name) else [],
        **context,
    )
    return HTMLResponse(page, code)


def shows_flashes(code: int, name: str) -> bool:
    """Whether a page takes the last action's messages: a page asked for, even one answered 503 (no
    worker: the redirect after a button lands there), but not an error page such as a stray 404."""
    return code < 400 or code == 503 or name == "signin.html"


def fragment(request: Request, name: str, **context: Any) -> HTMLResponse:
    env: Environment = request.app.state.templates
    return HTMLResponse(env.get_template(name).render(request=request, **context))
