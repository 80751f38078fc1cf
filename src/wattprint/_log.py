"""Logging for wattprint, imported lazily (``logging`` alone costs more than all of ``import wattprint``).

Background trouble is reported through these helpers once, never raised into user code.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

_seen: set[str] = set()
_seen_lock = threading.Lock()


def get_logger() -> logging.Logger:
    """The ``wattprint`` logger."""
    import logging

    return logging.getLogger("wattprint")


def debug(message: str, *args: object, exc_info: bool = False) -> None:
    get_logger().debug(message, *args, exc_info=exc_info)


def info(message: str, *args: object) -> None:
    get_logger().info(message, *args)


def error(message: str, *args: object, exc_info: bool = True) -> None:
    get_logger().error(message, *args, exc_info=exc_info)


def warn_once(key: str, message: str) -> bool:
    """Log ``message`` as a warning the first time ``key`` is seen in this process; return whether it was logged."""
    with _seen_lock:
        if key in _seen:
            return False
        _seen.add(key)
    get_logger().warning(message)
    return True


def forget_warnings() -> None:
    """Let every warning be logged again (used by tests)."""
    with _seen_lock:
        _seen.clear()
