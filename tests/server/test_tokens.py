"""Tokens: the keyed hash of the whole token is all the store keeps, a check equals the HMAC of the standard
library, and a changed secret, an unknown id or a revoked token does not pass."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pytest

from tests.fakes.pg import count
from tests.fakes.server import sqlite_url
from wattprint.server.tokens import (
    KEY_SETTING,
    TokenChecker,
    TokenError,
    _Sha256Hmac,
    bootstrap,
    create_token,
    server_key,
)
from wattprint.store import open_store, queries


@pytest.mark.parametrize("length", [1, 32, 64, 65, 200])
def test_the_fast_hmac_is_hmac_sha256(length: int) -> None:
    key = os.urandom(length)
    for message in (b"", b"wp_0123456789ab_secret", os.urandom(1000)):
        assert _Sha256Hmac(key).digest(message) == hmac.new(key, message, hashlib.sha256).digest()


def test_the_store_keeps_only_the_keyed_hash(tmp_path: Path) -> None:
    store = open_store(sqlite_url(tmp_path / "t.sqlite"))
    try:
        admin = bootstrap(store)
        assert admin is not None and bootstrap(store) is None  # once only
        key = queries.setting(store, KEY_SETTING)
        assert key is not None and server_key(store) == key
        row, token = create_token(store, "ingest", "mnist", "ci")
        prefix, token_id, secret = token.split("_", 2)
        assert (prefix, token_id) == ("wp", row.token_id) and len(secret) >= 32
        assert row.key_hash == hmac.new(bytes.fromhex(key), token.encode(), hashlib.sha256).hexdigest()
        assert count(store, "SELECT count(*) FROM server_tokens WHERE key_hash LIKE :s", s=f"%{secret}%") == 0
        database = (tmp_path / "t.sqlite").read_bytes()
        assert secret.encode() not in database and admin.encode() not in database
        # the project of an ingest token is created with it
        assert store.projects() == ["mnist"]
        checker = TokenChecker(store, key)
        who = checker.check(token)
        assert (who.token_id, who.scope, who.project) == (row.token_id, "ingest", "mnist")
        assert checker.check(admin).scope == "admin"
        for bad, reason in ((token[:-1] + ("A" if token[-1] != "A" else "B"), "secret is wrong"),
                            ("wp_ffffffffffff_" + secret, "not known"), ("Bearer " + token, "malformed"),
                            ("wp_xyz_" + secret, "malformed")):
            with pytest.raises(TokenError, match=reason):
                checker.check(bad)
        with pytest.raises(ValueError, match="--project"):
            create_token(store, "ingest")
        with pytest.raises(ValueError, match="not tied to a project"):
            create_token(store, "read", "mnist")
        with pytest.raises(ValueError, match="scope 'owner'"):
            create_token(store, "owner")
        assert queries.revoke_token(store, row.token_id, 5.0)
        checker.forget(row.token_id)
        with pytest.raises(TokenError, match="revoked"):
            checker.check(token)
        assert queries.revoke_token(store, row.token_id, 9.0)  # again: kept its first time
        stored = queries.token(store, row.token_id)
        assert stored is not None and stored.revoked_at == 5.0
        assert not queries.revoke_token(store, "000000000000", 1.0)
    finally:
        store.close()
