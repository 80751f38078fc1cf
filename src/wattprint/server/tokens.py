"""API tokens: made, stored as a keyed hash, checked in microseconds, revoked (stdlib and the store only).

A token reads ``wp_<token_id>_<secret>``: ``token_id`` is 12 hex digits, public, the row's key; the store keeps
only the HMAC-SHA256 of the whole token under the server's key (``server_settings`` row ``token_key``), never the
token. A check is one HMAC and one dictionary look-up: the rows of tokens in use are cached, and each is read
again after ``RECHECK_S`` seconds, so a token revoked from another process (``wattprint server token revoke``)
stops working within that time, and at once when revoked through this server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass

from wattprint.store import queries
from wattprint.store.runstore import RunStore

SCOPES = ("ingest", "read", "admin")
KEY_SETTING = "token_key"
RECHECK_S = 5.0
"""How long a cached token row is trusted before it is read again (a revocation elsewhere shows within this)."""
TOUCH_EVERY_S = 60.0
"""``last_used_at`` is written at most this often per token."""

_TOKEN = re.compile(r"^wp_([0-9a-f]{12})_([A-Za-z0-9_-]{32,128})$")


class TokenError(Exception):
    """A token that does not authorise: malformed, unknown, wrong or revoked (the message says which)."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: a token's id, scope and project, or the anonymous user of a loopback server."""

    token_id: str | None
    scope: str
    """``ingest``, ``read``, ``admin``, or ``anonymous``."""
    project: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.token_id is None


ANONYMOUS = Principal(None, "anonymous")


def new_key() -> str:
    return secrets.token_hex(32)


def key_hash(key: str, token: str) -> str:
    return hmac.new(bytes.fromhex(key), token.encode("ascii"), hashlib.sha256).hexdigest()


def server_key(store: RunStore) -> str:
    """The server's token key, created on first use."""
    return queries.ensure_setting(store, KEY_SETTING, new_key())[0]


def _new_token() -> tuple[str, str]:
    token_id = secrets.token_hex(6)
    return token_id, f"wp_{token_id}_{secrets.token_urlsafe(32)}"


def _check_scope(scope: str, project: str | None) -> None:
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r} is not valid; allowed: {', '.join(SCOPES)}")
    if scope == "ingest" and not project:
        raise ValueError("an ingest token writes runs of one project: give the project (--project NAME)")
    if scope != "ingest" and project is not None:
        raise ValueError(f"a {scope} token is not tied to a project: leave out the project, or use scope ingest")


def create_token(store: RunStore, scope: str, project: str | None = None, name: str | None = None,
                 *, key: str | None = None) -> tuple[queries.TokenRow, str]:
    """Make and store a token; returns its row and the token itself, which is shown once and never stored."""
    _check_scope(scope, project)
    key = key or server_key(store)
    token_id, token = _new_token()
    row = queries.TokenRow(token_id, name or f"{scope} token", scope, project, key_hash(key, token), time.time(),
                           None, None)
    queries.insert_token(store, row)
    return row, token


def bootstrap(store: RunStore) -> str | None:
    """Create the server key and a first admin token if the store has no key yet; the token if one was made."""
    stored = queries.setting(store, KEY_SETTING)
    if stored is not None:
        return None
    key = new_key()
    token_id, token = _new_token()
    row = queries.TokenRow(token_id, "admin (first start)", "admin", None, key_hash(key, token), time.time(), None,
                           None)
    _, created = queries.ensure_setting(store, KEY_SETTING, key, token=row)
    return token if created else None


def token_json(row: queries.TokenRow) -> dict[str, object]:
    """A token's public description (never its secret nor its hash)."""
    return {"token_id": row.token_id, "name": row.name, "scope": row.scope, "project": row.project,
            "created_at": row.created_at, "revoked_at": row.revoked_at, "last_used_at": row.last_used_at}


class _Sha256Hmac:
    """HMAC-SHA256 under one key with its padded key states hashed once (RFC 2104): a check costs two hash copies,
    not the key set-up of ``hmac.new`` (several microseconds with OpenSSL 3). Equal to ``key_hash``."""

    def __init__(self, key: bytes) -> None:
        padded = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@dataclass
class _Cached:
    row: queries.TokenRow
    principal: Principal
    digest: bytes
    checked_at: float
    touched_at: float
    """When ``last_used_at`` was last written, on the monotonic clock (0: not by this process)."""


class TokenChecker:
    """Checks bearer tokens against the store's rows, cached in memory; ``forget`` drops a revoked one at once."""

    def __init__(self, store: RunStore, key: str) -> None:
        self._store = store
        self._hmac = _Sha256Hmac(bytes.fromhex(key))
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def check(self, token: str) -> Principal:
        """The principal a token stands for; TokenError saying why it does not authorise."""
        match = _TOKEN.match(token)
        if match is None:
            raise TokenError("the bearer token is malformed: a wattprint token reads wp_<12 hex digits>_<secret>")
        token_id = match.group(1)
        now = time.monotonic()
        cached = self._cache.get(token_id)
        if cached is None or now - cached.checked_at > RECHECK_S:
            cached = self._load(token_id, now, cached)
        if not hmac.compare_digest(self._hmac.digest(token.encode("ascii")), cached.digest):
            raise TokenError(f"token {token_id} is not valid (its secret is wrong): ask an admin for a new one")
        row = cached.row
        if row.revoked_at is not None:
            raise TokenError(f"token {token_id} was revoked: ask an admin for a new one")
        if now - cached.touched_at > TOUCH_EVERY_S:
            cached.touched_at = now
            queries.touch_token(self._store, token_id, time.time())
        return cached.principal

    def _load(self, token_id: str, now: float, previous: _Cached | None) -> _Cached:
        row = queries.token(self._store, token_id)
        if row is None:
            with self._lock:
                self._cache.pop(token_id, None)
            raise TokenError(f"token {token_id} is not known to this server: ask an admin for a token")
        cached = _Cached(row, Principal(token_id, row.scope, row.project), bytes.fromhex(row.key_hash), now,
                         previous.touched_at if previous else -TOUCH_EVERY_S)
        with self._lock:
            self._cache[token_id] = cached
        return cached

    def forget(self, token_id: str) -> None:
        with self._lock:
            self._cache.pop(token_id, None)
