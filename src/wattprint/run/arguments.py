"""The keyword arguments of ``Tracker`` and ``track``, typed, for IDEs and mypy (``**overrides: Unpack[...]``).

Imported for type checking only, so it costs nothing at run time. tests/run/test_arguments.py holds it to the
key registry, ``RunOptions`` and ``Hardware``: a key or option added there without its line here fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from wattprint.api.records import GroupRecord
    from wattprint.run.options import Hardware
    from wattprint.settings.typed import Settings


class SettingArguments(TypedDict, total=False):
    """Settings keys a tracker takes as keyword arguments (docs/configuration.md; ``project`` is its first
    parameter); None means "not given"."""

    store: str | PathLike[str] | None
    attribution: str | None
    interval_s: float | None
    flush_interval_s: float | None
    store_command: bool | None
    gpus: bool | None
    cpu_tdp_w: float | None
    powercap_root: str | PathLike[str] | Sequence[str | PathLike[str]] | None
    rapl_domains: Sequence[str] | None
    location: str | None
    pue: float | None
    cloud_metadata: bool | None
    ip_geolocation: bool | None
    predict_after: int | None
    prediction_level: float | None
    budget_kwh: float | None
    budget_g: float | None
    budget_policy: str | None
    budget_basis: str | None
    intensity_provider: str | None
    intensity_zone: str | None
    electricitymaps_token: str | None
    watttime_username: str | None
    watttime_password: str | None
    intensity_url: str | None
    intensity_timeout_s: float | None
    intensity_disk_cache: bool | None
    server: str | None
    server_token: str | None
    exporters: Sequence[str] | None
    prometheus_port: int | None
    prometheus_addr: str | None
    prometheus_textfile: str | None
    pushgateway_url: str | None
    pushgateway_job: str | None
    csv_log_path: str | None
    mlflow_tracking_uri: str | None
    mlflow_experiment: str | None
    wandb_project: str | None
    wandb_entity: str | None
    wandb_mode: str | None
    otlp_endpoint: str | None
    otlp_headers: str | None


class TrackerArguments(SettingArguments, total=False):
    """Every keyword of ``Tracker``: settings, the run's options (``RunOptions``) and hardware (``Hardware``)."""

    pid: int | None
    total_epochs: int | None
    total_steps: int | None
    predict_every_steps: int | None
    hyperparameters: Mapping[str, Any] | None
    tags: tuple[str, ...] | list[str] | None
    group: str | GroupRecord | None
    nvml: Any
    amdsmi: Any


class TrackArguments(TrackerArguments, total=False):
    """Every keyword of ``track``: those of ``Tracker``, its project and name included."""

    project: str | None
    name: str | None
    settings: Settings | None
    hardware: Hardware | None
