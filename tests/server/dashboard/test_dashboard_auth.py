"""A dashboard reached where tokens are required (a non-loopback bind address, or through a proxy) asks for a
token and shows no data until one is given; the calculator page works without one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.dashboard import Browser, chromium_or_skip, fill, shot
from tests.fakes.server import serve_app
from wattprint.server.tokens import create_token
from wattprint.store import open_store

pytestmark = pytest.mark.slow


class _Remote:
    """What ``fill`` needs of a server: its URL and a token to send runs with."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Remote]:
    """The real application over a store, bound (as far as it knows) to a public address: tokens required."""
    chromium_or_skip()
    from wattprint.server import create_app

    path = Path(tmp_path_factory.mktemp("remote")) / "team.sqlite"
    store = open_store("sqlite:///" + str(path))
    try:
        _, token = create_token(store, "admin", None, "test")
        with serve_app(create_app(store, host="192.0.2.10")) as url:
            server = _Remote(url, token)
            fill(server)  # type: ignore[arg-type]  # duck-typed: url and auth()
            yield server
    finally:
        store.close()


def test_pages_ask_for_a_token_and_show_no_data(remote: _Remote, browser: Browser) -> None:
    page = browser.page(expected_errors=("401",))  # Chromium logs the refused API call itself
    page.goto(remote.url + "/projects/vision")
    page.wait_for_selector("#token-prompt:not([hidden])")
    assert page.locator("#main").is_hidden()
    assert "needs a token" in page.locator("#token-why").inner_text()  # the API's own reason
    assert page.locator("#runs-table").count() == 0
    assert "resnet" not in page.content()
    shot(page, "token-prompt")
    page.fill("#token-input", remote.token)
    page.uncheck("#token-remember")  # this tab only: session storage
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#runs-table")
    assert page.locator("#runs-table tbody tr").count() == 4
    assert page.evaluate("() => sessionStorage.getItem('wattprint.token')") == remote.token
    assert page.evaluate("() => localStorage.getItem('wattprint.token')") is None
    browser.check_no_errors()


def test_the_calculator_needs_no_token(remote: _Remote, browser: Browser) -> None:
    page = browser.page()
    page.goto(remote.url + "/calculator")
    page.fill("input[name=gpu]", "A100 SXM4 80GB")
    page.fill("input[name=hours]", "1")
    page.click("#calc-form button[type=submit]")
    page.wait_for_selector("#calc-regions table")
    assert page.locator("#token-prompt").is_hidden()
    assert "400 Wh" in page.locator("#calc-energy").inner_text()
    browser.check_no_errors()
