"""Exporters: sinks that show every run of the process where teams already look (Prometheus, OpenTelemetry,
MLflow, Weights & Biases, a CodeCarbon-like CSV log). Each is an optional extra in a module of its own, imported
only when it is used: importing this package imports none of them. docs/exporters.md says how to turn each on.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.sinks.base import RunSink

__all__ = ["BUILTIN", "attach", "exporter_class", "exporter_names", "missing"]

BUILTIN = {
    "prometheus": "wattprint.exporters.prometheus:PrometheusSink",
    "prometheus-textfile": "wattprint.exporters.prometheus:TextfileSink",
    "prometheus-pushgateway": "wattprint.exporters.prometheus:PushgatewaySink",
    "opentelemetry": "wattprint.exporters.opentelemetry:OpenTelemetrySink",
    "mlflow": "wattprint.exporters.mlflow:MlflowSink",
    "wandb": "wattprint.exporters.wandb:WandbSink",
    "csv-log": "wattprint.exporters.csvlog:CsvLogSink",
}
"""Every exporter by its sink name: ``module:class``, imported (and registered as a sink) when first asked for."""


def missing(package: str, extra: str, what: str) -> str:
    """The message of the ImportError raised when an exporter's library is not installed."""
    return f"{what} needs the {package} package, which is not installed: pip install 'wattprint[{extra}]'"


def exporter_names() -> tuple[str, ...]:
    """The names of the exporters that come with wattprint (their libraries may not be installed)."""
    return tuple(BUILTIN)


def exporter_class(name: str) -> type[RunSink]:
    """The sink class of exporter ``name``, its module imported (which registers it with ``wattprint.sinks``).
    ConfigError for an unknown name; ImportError naming the extra to install when its library is missing."""
    target = BUILTIN.get(name)
    if target is None:
        from wattprint.core.errors import ConfigError

        raise ConfigError(f"exporter {name!r} is not known; known exporters: {', '.join(BUILTIN)}")
    module, _, attribute = target.partition(":")
    cls: type[RunSink] = getattr(importlib.import_module(module), attribute)
    return cls


def attach(name: str, **options: Any) -> RunSink:
    """Make exporter ``name`` with ``options`` and attach it, so every run of this process goes to it too; returns
    the sink (``wattprint.sinks.detach(sink)`` stops it)."""
    from wattprint import sinks

    return sinks.attach(exporter_class(name)(**options))
