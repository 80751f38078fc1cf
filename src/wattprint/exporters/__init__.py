"""Exporters: sinks that show every run of the process where teams already look (Prometheus, OpenTelemetry,
MLflow). Each is an optional extra, one module each, imported only when it is used; importing this package
imports none of them. docs/exporters.md says how to turn each on.
"""

from __future__ import annotations

__all__ = ["missing"]


def missing(package: str, extra: str, what: str) -> str:
    """The message of the ImportError raised when an exporter's library is not installed."""
    return f"{what} needs the {package} package, which is not installed: pip install 'wattprint[{extra}]'"
