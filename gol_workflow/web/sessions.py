"""Flask's session kept on the server once someone logs in; before that, a signed cookie.

The cookie of a logged-in person carries only a random id (the table keeps its SHA-256), so a
session ends on the server: at logout, by the idle and absolute limits, and whenever the account
changes (see `services.sessions`). A visitor who has not logged in keeps only the login form's
CSRF token and flash messages, in a signed cookie that authenticates nothing: this keeps
anonymous requests (and bots on the login page) from writing rows.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, request, session
from flask.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin
from itsdangerous import BadSignature
from werkzeug.datastructures import CallbackDict

from ..api import reconnect
from ..services.access import sessions
from ..services.workflow.runtime import Runtime
from ..services.access.users import User
from .context import RUNTIME_KEY

STATIC_PREFIX = "/static/"


class WebSession(CallbackDict[str, Any], SessionMixin):
    """One browser's session data, and the server session it belongs to when logged in."""

    def __init__(self, initial: dict[str, Any] | None = None, opened: sessions.OpenSession | None = None,
                 untouched: bool = False) -> None:
        def on_update(self: WebSession) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.opened = opened
        self.untouched = untouched  # static files: never read or written
        self.modified = False
        self.stale_cookie = False
        self.login_user: User | None = None
        self.ended = False

    @property
    def user(self) -> User | None:
        """The account of a live server session (None for visitors)."""
        return self.opened.user if self.opened is not None and not self.ended else None


class ServerSessionInterface(SessionInterface):
    """Sessions in the `sessions` table for logged-in people, a signed cookie before login."""

    def __init__(self) -> None:
        self._signed = SecureCookieSessionInterface()

    def open_session(self, app: Flask, request: Request) -> WebSession:
        if request.path.startswith(STATIC_PREFIX):
            return WebSession(untouched=True)  # assets need no session: no database read per file
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return WebSession()
        if sessions.looks_like_id(value):
            # Sessions open before the request is dispatched, where `reconnect` cannot repeat it.
            opened = reconnect.once_more_if_lost(lambda: sessions.resume(_runtime(app), value))
            if opened is None:
                stale = WebSession()
                stale.stale_cookie = True
                return stale
            return WebSession(opened.data, opened)
        serializer = self._signed.get_signing_serializer(app)
        if serializer is None:
            return WebSession()
        try:
            max_age = int(_runtime(app).settings.session_max_hours * 3600)
            return WebSession(serializer.loads(value, max_age=max_age))
        except BadSignature:
            stale = WebSession()
            stale.stale_cookie = True
            return stale

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, WebSession)
        if session.untouched:
            return
        rt = _runtime(app)
        if session.login_user is not None:
            replaced = session.opened.id_hash if session.opened is not None else None
            token = sessions.start(rt, session.login_user.id, dict(session), request.remote_addr, replaced)
            # A browser-session cookie: the server alone decides when the session ends.
            self._set_cookie(app, response, token)
            return
        if session.opened is not None and not session.ended:
            response.vary.add("Cookie")
            sessions.save(rt, session.opened, dict(session) if session.modified else None)
            return
        if not session:
            if session.modified or session.stale_cookie or session.ended:
                response.delete_cookie(self.get_cookie_name(app), domain=self.get_cookie_domain(app),
                                       path=self.get_cookie_path(app), secure=self.get_cookie_secure(app),
                                       httponly=self.get_cookie_httponly(app),
                                       samesite=self.get_cookie_samesite(app))
                response.vary.add("Cookie")
            return
        if session.modified or session.ended or session.stale_cookie:
            serializer = self._signed.get_signing_serializer(app)
            assert serializer is not None
            self._set_cookie(app, response, str(serializer.dumps(dict(session))))

    def _set_cookie(self, app: Flask, response: Response, value: str) -> None:
        response.vary.add("Cookie")
        response.set_cookie(self.get_cookie_name(app), value, domain=self.get_cookie_domain(app),
                            path=self.get_cookie_path(app), secure=self.get_cookie_secure(app),
                            httponly=self.get_cookie_httponly(app), samesite=self.get_cookie_samesite(app))


def _runtime(app: Flask) -> Runtime:
    return app.extensions[RUNTIME_KEY]  # type: ignore[no-any-return]


def _current() -> WebSession:
    current = session._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(current, WebSession)
    return current


def begin(user: User) -> None:
    """A fresh server session for someone who just logged in: new id, nothing carried over (no fixation)."""
    current = _current()
    current.clear()
    current.login_user = user


def end() -> str | None:
    """Forget the session in this response (the caller ends it on the server); returns its id hash."""
    current = _current()
    id_hash = current.opened.id_hash if current.opened is not None else None
    current.clear()
    current.ended = True
    return id_hash


def current_user() -> User | None:
    """The account of this request's live session."""
    return _current().user
