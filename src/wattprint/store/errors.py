"""The store's exception, kept apart so that importing it costs nothing."""

from __future__ import annotations

from wattprint.core.errors import WattprintError


class StoreError(WattprintError):
    """The run store cannot be opened or used; the message says what failed and how to fix it."""
