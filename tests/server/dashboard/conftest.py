"""The dashboard tests' fixtures (tests/fakes/dashboard.py)."""

from tests.fakes.dashboard import browser, filled_server  # noqa: F401 - fixtures
