"""The real team server's fixtures (tests/fakes/server.py) for the JavaScript client's tests."""

from tests.fakes.server import team_server  # noqa: F401 - fixture
