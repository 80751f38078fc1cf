"""How a message tells its reader to change something, in the reader's own terms.

Library code words a hint once, with :func:`setting` ("pass ``cpu_tdp_w=``" in Python, "give ``--cpu-tdp-w``" on the
command line, "set ``cpu_tdp_w`` in wattprint.toml" where the command has no such option), :func:`docs` (a URL,
since the wheel ships no docs/ folder) and :func:`regions` (the function or the command that lists locations).
The command line switches the voice for the duration of one command with :func:`command_line`; :func:`python_api`
switches it back (the team server's API speaks in the library's terms).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

DOCS_URL = "https://github.com/wattprint/wattprint/blob/main/docs/"
"""Where the project's documentation pages live (the wheel does not ship docs/)."""

_options: Mapping[str, str] | None = None
"""Setting or parameter name -> the option of the running command that sets it; None: the Python API speaks."""


@contextlib.contextmanager
def command_line(options: Mapping[str, str]) -> Iterator[None]:
    """Word hints for a command whose options are ``options`` (``{"cpu_tdp_w": "--cpu-tdp-w", ...}``)."""
    global _options
    previous, _options = _options, dict(options)
    try:
        yield
    finally:
        _options = previous


@contextlib.contextmanager
def python_api() -> Iterator[None]:
    """Word hints for the Python API (keyword arguments, JSON keys) for the duration, even inside a command: what
    a server started by ``wattprint server`` tells the clients of its API."""
    global _options
    previous, _options = _options, None
    try:
        yield
    finally:
        _options = previous


def speaking_to_command_line() -> bool:
    """Whether a command of the command line is running (rather than the Python API)."""
    return _options is not None


def setting(name: str) -> str:
    """How the reader sets ``name`` (a setting key or a function's keyword), as a verb phrase:
    ``pass cpu_tdp_w=``, ``give --cpu-tdp-w`` or ``set cpu_tdp_w in wattprint.toml (or WATTPRINT_CPU_TDP_W)``."""
    if _options is None:
        return f"pass {name}="
    option = _options.get(name)
    if option:
        return f"give {option}"
    from wattprint.settings.config import ENV_PREFIX, KEYS

    if any(key.name == name for key in KEYS):
        return f"set {name} in wattprint.toml (or {ENV_PREFIX}{name.upper()})"
    return f"set {name}"


def name(parameter: str) -> str:
    """How the reader names ``parameter`` in a list of alternatives: ``gpu=`` in Python, ``--gpu`` on the command
    line (the parameter's own name where the running command has no such option)."""
    if _options is None:
        return f"{parameter}="
    return _options.get(parameter) or parameter


def docs(page: str, anchor: str = "") -> str:
    """The URL of documentation page ``page`` (``"live"`` for docs/live.md), optionally at ``anchor``."""
    return f"{DOCS_URL}{page}.md" + (f"#{anchor}" if anchor else "")


def regions(query: str | None = None) -> str:
    """What lists the known locations: the ``wattprint regions`` command, or ``wattprint.data.search_intensity()``."""
    if _options is None:
        return f"wattprint.data.search_intensity({query!r})" if query else "wattprint.data.search_intensity()"
    return f"'wattprint regions {query}'" if query else "'wattprint regions'"


def argument(name: str, value: str) -> str | None:
    """``name`` given ``value`` in the reader's terms (``location="FR"`` or ``--location FR``); None when the running
    command has no option for it (then the environment or wattprint.toml is the way)."""
    if _options is None:
        return f'{name}="{value}"'
    option = _options.get(name)
    return f"{option} {value}" if option else None
