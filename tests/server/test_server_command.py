"""``wattprint server`` on the command line: bad options fail with the fix, token commands on an empty store."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.server import server_cli, sqlite_url


def test_bad_options_fail_naming_the_option(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "s.sqlite")
    for args, option in ((("--max-body-mb", "0"), "--max-body-mb"), (("--port", "70000"), "--port")):
        done = server_cli(*args, store_url=url)
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith("wattprint: error: ") and option in done.stderr
        assert "Traceback" not in done.stderr
    done = server_cli("--port", "eighty", store_url=url)
    assert done.returncode == 2 and "--port" in done.stderr
    done = server_cli("token", "create", "--scope", "owner", store_url=url)
    assert done.returncode == 2 and "--scope" in done.stderr


def test_token_list_of_a_new_store(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "s.sqlite")
    done = server_cli("token", "list", store_url=url)
    assert done.returncode == 0 and "no tokens yet" in done.stdout
    done = server_cli("token", "list", "--json", store_url=url)
    assert done.returncode == 0 and done.stdout.strip() == "[]"
    done = server_cli("token", "create", "--scope", "read", store_url=url)
    assert done.returncode == 0 and "shown only now" in done.stdout
    assert "read token" in server_cli("token", "list", store_url=url).stdout
