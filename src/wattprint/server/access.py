"""Who may do what: the bearer token of a request checked, and the rules of each kind of access.

Bound to loopback (one user's machine), a request without a token reads and writes; bound to any other address,
or reached through a reverse proxy (a ``Forwarded`` or ``X-Forwarded-For`` header), it is refused (401). A token
given is always checked, wherever the server listens. ``ingest`` tokens write and read one project, ``read``
tokens read everything, ``admin`` tokens do everything, managing tokens included.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wattprint.server.ingest import GroupCommit
from wattprint.server.problems import forbidden, unauthorised
from wattprint.server.tokens import ANONYMOUS, Principal, TokenChecker, TokenError
from wattprint.store.runstore import RunStore

_bearer = HTTPBearer(auto_error=False, description="a wattprint token: wp_<token_id>_<secret>")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (the address the server binds) reaches this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class ServerState:
    """What every request handler shares: the store, the token checker, and the server's limits."""

    store: RunStore
    checker: TokenChecker
    host: str
    max_body_bytes: int
    ingest: GroupCommit = field(init=False)
    """Saves the runs sent, those sent at the same time together."""

    def __post_init__(self) -> None:
        self.ingest = GroupCommit(self.store)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def state(request: Request) -> ServerState:
    found: ServerState = request.app.state.wattprint
    return found


def principal(request: Request,
              credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:  # noqa: B008
    """The requester: a checked token's principal, or anonymous on a loopback server; 401 otherwise."""
    header = request.headers.get("authorization")
    if header is not None and (credentials is None or credentials.scheme.lower() != "bearer"):
        raise unauthorised("the Authorization header must read 'Bearer <token>'")
    return principal_of(request, None if header is None or credentials is None else credentials.credentials)


def principal_of(request: Request, token: str | None, how: str = "'Authorization: Bearer <token>'") -> Principal:
    """The principal of ``token`` (None: no token sent); ``how`` says how this route takes a token."""
    server = state(request)
    if token is None:
        proxied = "forwarded" in request.headers or "x-forwarded-for" in request.headers
        if server.loopback and not proxied:
            return ANONYMOUS
        where = "behind a reverse proxy" if server.loopback else f"on {server.host}"
        raise unauthorised(f"this server listens {where}, so every request needs a token: send {how} (an admin "
                           "makes one with 'wattprint server token create')")
    try:
        return server.checker.check(token)
    except TokenError as error:
        raise unauthorised(str(error)) from None


def check_read(who: Principal, project: str | None) -> None:
    """403 unless ``who`` may read runs of ``project`` (None: runs of no project)."""
    if who.scope == "ingest" and project != who.project:
        raise forbidden(f"token {who.token_id} may read project {who.project!r} only, not "
                        f"{'runs without a project' if project is None else repr(project)}; use a read token")


def check_read_all(who: Principal) -> None:
    """403 unless ``who`` may read every project."""
    if who.scope == "ingest":
        raise forbidden(f"token {who.token_id} may read project {who.project!r} only: filter by it, or use a read "
                        "token")


def check_write(who: Principal, project: str | None) -> None:
    """403 unless ``who`` may write runs of ``project``."""
    if who.scope == "read":
        raise forbidden(f"token {who.token_id} is a read token: sending runs needs an ingest token of the run's "
                        "project ('wattprint server token create --scope ingest --project NAME')")
    if who.scope == "ingest" and project != who.project:
        shown = "no project" if project is None else repr(project)
        raise forbidden(f"token {who.token_id} writes runs of project {who.project!r}, and this run has {shown}: "
                        f"set the run's project to {who.project!r}, or use that project's token")


def check_admin(who: Principal) -> None:
    """401 for no token, 403 for a token that is not an admin's: managing tokens needs an admin token."""
    if who.anonymous:
        raise unauthorised("managing tokens needs an admin token, even on loopback: send 'Authorization: Bearer "
                           "<admin token>' (the one printed at the server's first start, or made with "
                           "'wattprint server token create --scope admin')")
    if who.scope != "admin":
        raise forbidden(f"token {who.token_id} has scope {who.scope}: managing tokens needs an admin token")
