"""Logging for wattprint, imported lazily (``logging`` alone costs more than all of ``import wattprint``).

Background trouble is reported through these helpers once, never raised into user code. The ``wattprint`` logger
takes its level from the ``log_level`` setting (default ``info``: one line per prediction) and, while the
application has not configured logging itself, writes its lines to stderr; once the application has (a handler
on the root logger), the lines go there instead, not twice.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

_seen: set[str] = set()
_seen_lock = threading.Lock()
_configured = False
_configure_lock = threading.Lock()
LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def get_logger() -> logging.Logger:
    """The ``wattprint`` logger, set up on first use (level from ``log_level``, a stderr handler)."""
    import logging

    logger = logging.getLogger("wattprint")
    if not _configured:
        _configure(logger)
    return logger


def _configure(logger: logging.Logger) -> None:
    global _configured
    with _configure_lock:
        if _configured:
            return
        _configured = True  # before reading the settings: reading them may log (an unknown variable)
    import logging

    handler = _handler_class()
    if not any(isinstance(h, handler) for h in logger.handlers):
        logger.addHandler(handler())
    if logger.level == logging.NOTSET:  # a level the application set itself wins
        logger.setLevel(LEVELS[_level_setting()])


_level_source: Callable[[], str] | None = None
"""Reads the ``log_level`` setting; registered by the settings layer, which sits above this module."""


def set_level_source(source: Callable[[], str]) -> None:
    """Tell the logger where ``log_level`` comes from (called once, when the settings are first imported)."""
    global _level_source
    _level_source = source


def _level_setting() -> str:
    """The ``log_level`` setting; its default when the configuration cannot be read (that error is raised where
    the configuration is used, not here) or the settings were never imported."""
    source = _level_source
    if source is None:
        return "info"
    try:
        return str(source())
    except Exception:  # noqa: BLE001 - logging must never fail
        return "info"


def reconfigure() -> None:
    """Read ``log_level`` again on the next message (used by tests and after the settings change)."""
    global _configured
    import logging

    with _configure_lock:
        _configured = False
    logging.getLogger("wattprint").setLevel(logging.NOTSET)


_handler: type | None = None


def _handler_class() -> type:
    """The stderr handler's class, defined on first use (it needs ``logging``)."""
    global _handler
    if _handler is None:
        _handler = _define_handler()
    return _handler


def _define_handler() -> type:
    import logging
    import sys

    class Stderr(logging.Handler):
        """Writes ``wattprint`` lines to the current sys.stderr unless the application configured logging."""

        def emit(self, record: logging.LogRecord) -> None:
            if logging.getLogger().handlers:
                return  # the record propagates to the application's handlers
            try:
                stream = sys.stderr
                if stream is not None:
                    stream.write(self.format(record) + "\n")
                    stream.flush()
            except Exception:  # noqa: BLE001
                self.handleError(record)

    return Stderr


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
