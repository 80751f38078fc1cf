"""The real team server's fixtures (tests/fakes/server.py) for these tests."""

from tests.fakes.server import team_server, team_server_pg  # noqa: F401 - fixtures
