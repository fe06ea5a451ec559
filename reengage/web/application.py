"""The application class: Flask's, without two costs it pays on every request for features this app does not use.

Every view and hook here is a plain function, yet Flask asks of each one, on every request, whether it is a
coroutine (a dozen hooks a request, about a tenth of the time of a request as light as `/livez`). And every request
opens the signed-cookie session, building the cookie's signer, though only the console's pages carry a session
cookie and API calls never do.
"""

from collections.abc import Callable
from inspect import CO_COROUTINE
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened empty without building the signer when the request carries no cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


class Application(Flask):
    """Flask, with cookie-less sessions opened cheaply and a plain function's check for being a coroutine read off
    its code flags."""

    session_interface = CookieSessions()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        code = getattr(getattr(func, "__func__", func), "__code__", None)
        if code is not None and not code.co_flags & CO_COROUTINE:
            return func
        return super().ensure_sync(func)  # coroutines, partials and other callables, as Flask decides
