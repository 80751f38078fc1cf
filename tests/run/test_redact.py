"""Credentials never reach the store: command lines are redacted before they are saved, or kept out entirely."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from wattprint.run.redact import is_secret_name, redact_argv, redact_command

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
SECRETS = ("abc123SECRET", "hunter2", "pgpass", "hf_XyZ", "ghp_tok", "qqq999", "s3cr3t")


@pytest.mark.parametrize(("argv", "expected"), [
    (["train.py", "--token=abc123SECRET", "--password", "hunter2", "postgresql://u:pgpass@h/db"],
     ["train.py", "--token=REDACTED", "--password", "REDACTED", "postgresql://u:REDACTED@h/db"]),
    (["env", "HF_TOKEN=hf_XyZ", "PGPASSWORD=pgpass", "python", "t.py"],
     ["env", "HF_TOKEN=REDACTED", "PGPASSWORD=REDACTED", "python", "t.py"]),
    (["docker", "run", "-e", "AWS_SECRET_ACCESS_KEY=s3cr3t", "img"],
     ["docker", "run", "-e", "AWS_SECRET_ACCESS_KEY=REDACTED", "img"]),
    (["curl", "https://ghp_tok@github.com/o/r?api_key=qqq999&page=2"],
     ["curl", "https://REDACTED@github.com/o/r?api_key=REDACTED&page=2"]),
    (["x", "--apiKey", "qqq999", "--client-secret=s3cr3t", "--db=postgresql+psycopg://me:pgpass@db/w"],
     ["x", "--apiKey", "REDACTED", "--client-secret=REDACTED", "--db=postgresql+psycopg://me:REDACTED@db/w"]),
])
def test_credentials_are_redacted(argv: list[str], expected: list[str]) -> None:
    assert redact_argv(argv) == expected


def test_what_is_not_a_credential_is_kept() -> None:
    argv = ["train.py", "--max-tokens", "100", "--key-file", "k.pem", "--auth-type", "basic", "--use_auth_token",
            "--epochs", "3", "https://example.org/data?page=2", "LR=0.1", "--keyframes", "8", "--broken", "1"]
    assert redact_argv(argv) == argv
    assert not is_secret_name("--monkey") and is_secret_name("--hf-token") and is_secret_name("GITHUBTOKEN")


def test_a_command_line_that_is_not_shell_syntax_is_still_redacted() -> None:
    assert redact_command("psql 'postgresql://u:pgpass@h/db") == "psql 'postgresql://u:REDACTED@h/db"


def run_with_secrets(env: dict[str, str]) -> dict:
    argv = [sys.executable, "-c", "pass", "--token=abc123SECRET", "--password", "hunter2",
            "postgresql://u:pgpass@h/db"]
    completed = subprocess.run([WATTPRINT, "run", "--json", "--", *argv], env=env, capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def everything_readable(env: dict[str, str], run_id: str) -> str:
    """The run as ``show``, ``show --json`` and ``export`` print it, and every text in the store file."""
    texts = [subprocess.run([WATTPRINT, *args], env=env, capture_output=True, text=True, timeout=120, check=True).stdout
             for args in (["show", run_id], ["show", run_id, "--json"], ["export", "--format", "json"])]
    with sqlite3.connect(env["WATTPRINT_STORE"]) as connection:
        texts += [str(row) for row in connection.execute("SELECT * FROM runs")]
    return "\n".join(texts)


def test_a_stored_command_line_keeps_no_credential(env: dict[str, str]) -> None:
    data = run_with_secrets(env)
    assert data["command"].endswith("--token=REDACTED --password REDACTED postgresql://u:REDACTED@h/db")
    text = everything_readable(env, data["run_id"])
    assert "--token=REDACTED" in text
    assert not [secret for secret in SECRETS if secret in text]


def test_store_command_false_keeps_command_lines_out(env: dict[str, str]) -> None:
    data = run_with_secrets({**env, "WATTPRINT_STORE_COMMAND": "false"})
    assert data["command"] is None
    text = everything_readable(env, data["run_id"])
    assert "--token" not in text and "hunter2" not in text
