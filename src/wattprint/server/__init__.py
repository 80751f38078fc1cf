"""The team server: API v1 over one store (FastAPI on uvicorn), tokens stored as keyed hashes (docs/server.md).

>>> from wattprint.server import create_app, serve   # needs the extra: pip install 'wattprint[server]'

Importing this package imports nothing of FastAPI; ``create_app`` and ``serve`` do.
"""

from __future__ import annotations

from wattprint._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.server.app import create_app
    from wattprint.server.serve import serve

__all__ = ["create_app", "serve"]

_LAZY = {"create_app": "wattprint.server.app", "serve": "wattprint.server.serve"}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
