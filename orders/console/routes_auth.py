"""Sign in and sign out (docs/console.md, "Security": sessions): a form with `Username` and `Password` and a
`Sign in` button; the `Sign out` button in every page's header ends the session."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orders.console.auth import SignInRefused, current_staff, sign_in, sign_out
from orders.console.guard import Busy
from orders.console.pages import PREFIX, render
from orders.console.sessions import flash
from orders.console.users import UsersFile, UsersFileError

log = logging.getLogger("orders.console")
router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of the console, never another site (`//evil`, `https:`)."""
    if target and target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return PREFIX + "/"


@router.get("/signin")
async def signin_page(request: Request, next: str | None = None) -> Response:
    if current_staff(request) is not None:
        return RedirectResponse(safe_next(next), 303)
    return render(request, "signin.html", next=safe_next(next), no_users=_no_users(request))


@router.post("/signin")
async def signin(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    users: UsersFile = request.app.state.users
    state = request.app.state
    try:
        user = await sign_in(request, users, state.throttle, state.password_checks, username, password)
    except Busy as err:
        log.warning("console sign-in for %r not checked: %s", username[:64], err)
        busy = render(request, "signin.html", 429, next=safe_next(next), error=str(err), username=username)
        busy.headers["Retry-After"] = str(err.retry_after)
        return busy
    except SignInRefused as err:
        log.warning("console sign-in refused for %r: %s", username[:64], err)
        return render(request, "signin.html", 401, next=safe_next(next), error=str(err), username=username)
    except UsersFileError as err:
        log.error("%s", err)
        return render(request, "signin.html", 503, next=safe_next(next), error="Accounts can't be read now.")
    log.info("console: %s signed in", user.name)
    return RedirectResponse(safe_next(next), 303)


@router.post("/signout")
async def signout(request: Request) -> Response:
    staff = current_staff(request)
    sign_out(request)
    if staff is not None:
        log.info("console: %s signed out", staff.name)
    flash(request, "You are signed out.")
    return RedirectResponse(f"{PREFIX}/signin", 303)


def _no_users(request: Request) -> bool:
    try:
        return not request.app.state.users.users()
    except UsersFileError:
        return False
