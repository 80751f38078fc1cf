"""A CSV log like CodeCarbon's ``emissions.csv``: one row per run, appended when it ends, so that scripts written
for CodeCarbon's file keep working; wattprint's own figures (method, uncertainty, intensity) in columns after.

CodeCarbon's columns mean what they mean there: energies in kWh with the PUE applied (``cpu_energy`` ...
``energy_consumed``), emissions in kg, powers in W, the country's ISO 3166 alpha-3 code. A file that already
has a header keeps it: a row is written in the file's own columns (one it does not know is left empty).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import platform
import threading

from wattprint import sinks
from wattprint.core.units import J_PER_KWH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.api.records import ComponentRecord, RunRecord
    from wattprint.settings.typed import Settings
    from wattprint.sinks.payload import Payload

__all__ = ["CODECARBON_COLUMNS", "COLUMNS", "CsvLogSink", "row"]

CODECARBON_COLUMNS = (
    "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate", "cpu_power",
    "gpu_power", "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed",
    "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os", "python_version",
    "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude", "latitude",
    "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
    "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue",
)
"""The columns of CodeCarbon 3's ``emissions.csv``, in its order."""

WATTPRINT_COLUMNS = (
    "wattprint_run_name", "wattprint_status", "wattprint_method", "wattprint_energy_j",
    "wattprint_energy_uncertainty_rel", "wattprint_emissions_uncertainty_rel", "wattprint_location",
    "wattprint_how_located", "wattprint_intensity_g_per_kwh", "wattprint_intensity_source",
    "wattprint_intensity_year", "wattprint_version",
)
COLUMNS = CODECARBON_COLUMNS + WATTPRINT_COLUMNS


def _components(devices: tuple[ComponentRecord, ...]) -> dict[str, tuple[float, float, set[str]]]:
    """Per component: (energy J, average power W, methods)."""
    by: dict[str, tuple[float, float, set[str]]] = {}
    for device in devices:
        energy_j, power_w, methods = by.get(device.component, (0.0, 0.0, set()))
        by[device.component] = (energy_j + device.energy_j, power_w + device.avg_power_w, methods | {device.method})
    return by


def _place(record: RunRecord) -> dict[str, str]:
    """CodeCarbon's location columns, from the place the run was priced for."""
    from wattprint.data import lookup_intensity

    place = lookup_intensity(record.location) if record.location else None
    if place is None:
        return {"on_cloud": "N"}
    iso3 = next((alias for alias in place.aliases if len(alias) == 3 and alias.isalpha()), "")
    columns = {"country_iso_code": iso3 or place.country or "", "on_cloud": "Y" if place.provider else "N"}
    if place.provider:
        columns.update(cloud_provider=place.provider, cloud_region=place.region or "")
    elif place.kind == "country":
        columns["country_name"] = place.name
    else:
        columns["region"] = place.name
    return columns


def row(record: RunRecord, devices: tuple[ComponentRecord, ...]) -> dict[str, object]:
    """One ended run as a row of :data:`COLUMNS` (a value left out is empty)."""
    pue = record.pue or 1.0
    by = _components(devices)
    facility_kwh = record.energy_j * pue / J_PER_KWH
    emissions_kg = record.emissions_g / 1000.0 if record.emissions_g is not None else None
    ended = record.ended_at or record.updated_at
    hardware = record.hardware
    cpus = [h for h in hardware if h.get("component") == "cpu"]
    gpus = [h for h in hardware if h.get("component") == "gpu"]
    values: dict[str, object] = {
        "timestamp": dt.datetime.fromtimestamp(ended).strftime("%Y-%m-%dT%H:%M:%S"),  # local time, as CodeCarbon
        "project_name": record.project or "",
        "run_id": record.run_id,
        "duration": record.duration_s,
        "emissions": emissions_kg if emissions_kg is not None else "",
        "emissions_rate": emissions_kg / record.duration_s if emissions_kg is not None and record.duration_s else "",
        "energy_consumed": facility_kwh,
        "water_consumed": record.water_l if record.water_l is not None else "",
        "os": platform.platform(),
        "python_version": platform.python_version(),
        "cpu_count": os.cpu_count() or "",
        "cpu_model": ", ".join(sorted({str(h.get("model")) for h in cpus if h.get("model")})),
        "gpu_count": len(gpus),
        "gpu_model": ", ".join(sorted({str(h.get("model")) for h in gpus if h.get("model")})),
        "tracking_mode": record.attribution,
        "pue": pue,
        "wattprint_run_name": record.name or "",
        "wattprint_status": record.status,
        "wattprint_method": ", ".join(f"{c}={'+'.join(sorted(m))}" for c, (_, _, m) in sorted(by.items())),
        "wattprint_energy_j": record.energy_j,
        "wattprint_energy_uncertainty_rel": record.energy_uncertainty_rel,
        "wattprint_emissions_uncertainty_rel": record.emissions_uncertainty_rel,
        "wattprint_location": record.location,
        "wattprint_how_located": record.how_located,
        "wattprint_intensity_g_per_kwh": record.intensity_g_per_kwh,
        "wattprint_intensity_source": record.intensity_source,
        "wattprint_intensity_year": record.intensity_year,
        "wattprint_version": record.wattprint_version,
    }
    for component in ("cpu", "gpu", "ram"):
        energy_j, power_w, _ = by.get(component, (0.0, 0.0, set()))
        values[f"{component}_energy"] = energy_j * pue / J_PER_KWH
        values[f"{component}_power"] = power_w
    values.update(_place(record))
    return {column: "" if values.get(column) is None else values.get(column, "") for column in COLUMNS}


@sinks.register
class CsvLogSink:
    """Appends a row to ``path`` for every run of the process when it ends (its final payload; a save re-priced
    after it, docs/live.md, adds no second row)."""

    name = "csv-log"
    settings_keys = ("csv_log_path",)

    @classmethod
    def from_settings(cls, settings: Settings) -> CsvLogSink:
        """The sink of the ``exporters`` setting, appending to ``csv_log_path``."""
        return cls(settings.csv_log_path)

    def __init__(self, path: str | os.PathLike[str] = "emissions.csv") -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._written: set[str] = set()

    def open(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"the directory of the CSV log {self.path!r} does not exist")

    def write(self, payload: Payload) -> None:
        record = payload.run
        if record.status == "running" or record.run_id in self._written:
            return
        values = row(record, payload.components)
        with self._lock, open(self.path, "a+", newline="", encoding="utf-8") as handle:
            handle.seek(0)
            header = next(csv.reader(handle), None)
            columns = header if header else list(COLUMNS)
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", restval="",
                                    lineterminator="\n")
            if not header:
                writer.writeheader()
            writer.writerow(values)
        self._written.add(record.run_id)

    def close(self) -> None:
        pass

