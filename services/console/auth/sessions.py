"""Flask's session, kept server-side in `identity.sessions`; the cookie holds only a random id.

The cookie is HttpOnly, SameSite=Lax and (unless SECURE_COOKIES=false) Secure with the `__Host-`
prefix, so no script, other site or plain-HTTP page can read or plant it. A login replaces the
session (a new id: no fixation); a logout deletes its row.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from services.common.identity.sessions import SessionStore
from services.common.identity.users import User


class ConsoleSession(CallbackDict, SessionMixin):
    """The session data, the id of its row (None until stored) and its user (None before login)."""

    def __init__(self, initial=None, sid: str | None = None, user: User | None = None):
        def changed(_session):
            self.modified = True

        super().__init__(initial or {}, changed)
        self.sid = sid
        self.user = user
        self.modified = False
        self.send_cookie = False
        self.ended = False


class ServerSessions(SessionInterface):
    def __init__(self, store: SessionStore, mall_id: str, secure: bool):
        self.store = store
        self.mall_id = mall_id
        self.secure = secure
        self.cookie = "__Host-console" if secure else "console"

    def open_session(self, app: Flask, request: Request) -> ConsoleSession:
        sid = request.cookies.get(self.cookie)
        stored = self.store.load(self.mall_id, sid) if sid and len(sid) < 100 else None
        if stored is None:
            return ConsoleSession()
        return ConsoleSession(stored.data, stored.sid, stored.user)

    def start(self, session: ConsoleSession, user: User) -> None:
        """Log `user` in: the old row goes, a new one (new id, data kept but the CSRF token) comes."""
        if session.sid:
            self.store.delete(session.sid)
        data = {key: value for key, value in session.items() if key == "lang"}
        stored = self.store.create(self.mall_id, user.id, data)
        session.clear()
        session.update(stored.data)
        session.sid, session.user, session.send_cookie, session.modified = (
            stored.sid,
            stored.user,
            True,
            False,
        )

    def end(self, session: ConsoleSession) -> None:
        if session.sid:
            self.store.delete(session.sid)
        session.clear()
        session.sid, session.user, session.ended, session.modified = None, None, True, False

    def save_session(self, app: Flask, session: ConsoleSession, response: Response) -> None:
        if session.ended:
            response.delete_cookie(self.cookie, path="/", secure=self.secure, httponly=True, samesite="Lax")
            return
        if session.sid is None:
            if not session.modified or not session:
                return  # nothing worth a row (a page read without a form)
            stored = self.store.create(self.mall_id, None, dict(session))
            session.sid, session.send_cookie = stored.sid, True
        elif session.modified:
            self.store.save(session.sid, dict(session))
        if session.send_cookie:
            response.set_cookie(
                self.cookie,
                session.sid,
                max_age=int(self.store.policy.lifetime.total_seconds()),
                path="/",
                secure=self.secure,
                httponly=True,
                samesite="Lax",
            )
        response.vary.add("Cookie")
