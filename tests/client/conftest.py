"""The real team server (tests/fakes/server.py), and no server sink left attached after a test."""

from collections.abc import Iterator

import pytest

from tests.fakes.server import team_server  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def no_server_sink_left() -> Iterator[None]:
    yield
    from wattprint.run.server import detach_all

    detach_all()
