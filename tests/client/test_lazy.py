"""Sending runs costs a tracker nothing until it sends: the modules a start with ``server`` set imports load
neither httpx nor SQLAlchemy (the writer thread imports httpx at its first send)."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import json, sys
import wattprint.run.server, wattprint.sinks.server, wattprint.client.http, wattprint.client.push
import wattprint.client.remote, wattprint.store.outbox
from wattprint.sinks.server import ServerSink
sink = ServerSink("http://127.0.0.1:9/api/v1/", "wp_0123456789ab_secret", store=None)
print(json.dumps({"loaded": sorted(m for m in ("httpx", "sqlalchemy") if m in sys.modules),
                  "target": sink.target, "repr": repr(sink)}))
"""


def test_the_sending_modules_import_neither_httpx_nor_sqlalchemy() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["loaded"] == []
    assert seen["target"] == "http://127.0.0.1:9"  # one name per server, whatever way the URL was written
    assert "secret" not in seen["repr"]
