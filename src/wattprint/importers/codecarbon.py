"""Reading CodeCarbon's ``emissions.csv`` into wattprint runs.

CodeCarbon appends one row per ``stop()`` and per ``flush()``; the rows of one run share its ``run_id`` and hold
running totals, so a run is its row with the longest ``duration``. Its figures are kept as the file states them:
``cpu_energy``, ``gpu_energy``, ``ram_energy`` and ``energy_consumed`` in kWh (CodeCarbon multiplies them by its
``pue`` setting, so the IT energy is each divided by ``pue``), ``emissions`` in kg, ``water_consumed`` in L,
``duration`` in s, ``timestamp`` the local time the row was written (no time zone: read as the local time of the
machine importing it). The file states no method or uncertainty per component: components are marked
``imported`` with the uncertainties in ``UNCERTAINTY`` (docs/reports.md says why).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

from wattprint._version import __version__
from wattprint.api.records import ComponentRecord, RunExtra, RunRecord
from wattprint.core.units import J_PER_KWH
from wattprint.importers.common import (
    IMPORTED,
    UNKNOWN_HOST,
    ImportedRun,
    ImportedRuns,
    ImportFormatError,
    number,
    stable_run_id,
)
from wattprint.settings.hints import docs

TOOL = "codecarbon"
REQUIRED = ("timestamp", "run_id", "duration", "emissions", "cpu_energy", "gpu_energy", "ram_energy",
            "energy_consumed")
UNCERTAINTY = {"cpu": 0.40, "gpu": 0.10, "ram": 0.50}
"""CPU: CodeCarbon reads RAPL where it can, else models TDP x load, and the file does not say which: the TDP
model's 40 %. GPU: NVML's total-energy counter, read by CodeCarbon: 10 %. RAM: a per-DIMM model: 50 %."""
INTENSITY_UNCERTAINTY_UNLISTED = 0.20


def read_codecarbon(path: str | Path) -> ImportedRuns:
    """The runs of a CodeCarbon emissions CSV, every row checked first; ImportFormatError names what is wrong.

    The file is read twice, never held whole: once to check every row and find each run's final row, and again,
    lazily, to build the runs as they are saved; so 100,000 rows take a bounded amount of memory.
    """
    path = Path(path)
    source = path.resolve()
    latest: dict[str, tuple[int, float]] = {}
    counts: dict[str, int] = {}
    for line, row in _rows(path):
        run_id = row["run_id"].strip()
        if not run_id:
            raise ImportFormatError(path, "is empty; every row needs its run's id", line=line, field_name="run_id")
        duration = number(path, row["duration"], "duration", line, unit="s")
        assert duration is not None
        _figures(source, line, row)  # every row is checked, not only the ones kept
        counts[run_id] = counts.get(run_id, 0) + 1
        kept = latest.get(run_id)
        if kept is None or duration >= kept[1]:
            latest[run_id] = (line, duration)
    if not latest:
        raise ImportFormatError(path, "has a header but no rows")
    final_rows = {line: run_id for run_id, (line, _) in latest.items()}

    def build() -> Iterator[ImportedRun]:
        for line, row in _rows(path):
            run_id = final_rows.get(line)
            if run_id is not None:
                yield _run(source, line, row, counts[run_id])

    return ImportedRuns(build, len(final_rows))


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of each non-blank row, after checking the header; ImportFormatError otherwise."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ImportFormatError(path, f"cannot be read ({error.strerror or error})") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise ImportFormatError(path, "is empty; expected CodeCarbon's emissions.csv with a header row")
            header = [h.strip() for h in header]
            missing = [name for name in REQUIRED if name not in header]
            if missing:
                raise ImportFormatError(
                    path, f"lacks the column(s) {', '.join(missing)}: not a CodeCarbon emissions.csv (its header "
                          f"starts {', '.join(header[:4]) or 'with nothing'})", line=1,
                )
            duplicated = sorted({h for h in header if header.count(h) > 1})
            if duplicated:
                raise ImportFormatError(path, f"repeats the column(s) {', '.join(duplicated)}", line=1)
            for values in reader:
                line = reader.line_num
                if not values or all(not v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    raise ImportFormatError(path, f"has {len(values)} fields where the header has {len(header)}",
                                            line=line)
                yield line, dict(zip(header, values, strict=True))
        except csv.Error as error:
            raise ImportFormatError(path, f"is not valid CSV ({error})", line=reader.line_num) from None
        except UnicodeDecodeError as error:
            raise ImportFormatError(path, f"is not UTF-8 text ({error})") from None


UNITS = {"duration": "s", "emissions": "kg", "emissions_rate": "kg", "cpu_energy": "kWh", "gpu_energy": "kWh",
         "ram_energy": "kWh", "energy_consumed": "kWh", "cpu_power": "W", "gpu_power": "W", "ram_power": "W",
         "water_consumed": "L", "cpu_count": "count", "gpu_count": "count", "ram_total_size": "GB",
         "pue": "PUE", "wue": "L/kWh"}
"""The unit of each numeric column, as CodeCarbon writes it; every one is range-checked (common.MAXIMUM)."""
REQUIRED_NUMBERS = ("duration", "emissions", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed")
YEARS = (1990, 2100)
"""Timestamps outside these years are not CodeCarbon's (it was first released in 2020)."""


def _figures(path: Path, line: int, row: Mapping[str, str]) -> dict[str, float]:
    """Every numeric field of a row, checked: finite, non-negative, within its plausible range."""
    figures = {}
    for name, unit in UNITS.items():
        required = name in REQUIRED_NUMBERS
        minimum = 1.0 if name == "pue" else 0.0
        value = number(path, row.get(name), name, line, minimum=minimum, optional=not required, unit=unit)
        if value is None:
            value = 1.0 if name == "pue" else 0.0
            if name == "wue":
                value = math.nan  # not stated
        figures[name] = value
    _timestamp(path, line, row["timestamp"])
    return figures


def _timestamp(path: Path, line: int, text: str) -> float:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ImportFormatError(path, f"{text[:40]!r} is not an ISO 8601 time", line=line,
                                field_name="timestamp") from None
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise ImportFormatError(path, f"{text!r} is not between {YEARS[0]} and {YEARS[1]}", line=line,
                                field_name="timestamp")
    return moment.timestamp()  # a naive time is local time, as CodeCarbon writes it


def _text(row: Mapping[str, str], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    value = value.strip()
    return value if value and value.lower() != "nan" else None


def _location(row: Mapping[str, str]) -> tuple[str | None, str | None, str, float]:
    """(our location key, its name, a description of what the file says, the intensity uncertainty)."""
    return _location_of(_text(row, "on_cloud"), _text(row, "cloud_provider"), _text(row, "cloud_region"),
                        _text(row, "country_iso_code"), _text(row, "region"), _text(row, "country_name"))


@lru_cache(maxsize=1024)
def _location_of(on_cloud: str | None, provider: str | None, region: str | None, iso3: str | None,
                 state: str | None, country_name: str | None) -> tuple[str | None, str | None, str, float]:
    """:func:`_location` by the row's location fields: a file's rows share a few places, looked up once each."""
    from wattprint.carbon.intensity import HOW_ARGUMENT, intensity_uncertainty
    from wattprint.data import intensity_records, lookup_intensity

    said = ", ".join(f"{k}={v}" for k, v in (("cloud_provider", provider), ("cloud_region", region),
                                            ("country_iso_code", iso3), ("region", state)) if v)
    record = None
    if (on_cloud or "N").upper() == "Y" and provider and region:
        record = lookup_intensity(f"{provider}:{region}")
    if record is None and iso3:
        country = lookup_intensity(iso3)
        if country is not None and state and country.country:
            wanted = state.casefold()
            record = next((r for r in intensity_records(country=country.country)
                           if r.kind in ("us-state", "ca-province") and r.name.casefold() == wanted), None)
        record = record or country
    if record is None:
        fallback = (f"{provider}:{region}" if provider and region else iso3) or None
        return fallback, country_name, said or "no location", INTENSITY_UNCERTAINTY_UNLISTED
    return record.key, record.name, said, intensity_uncertainty(record, HOW_ARGUMENT)


def _run(path: Path, line: int, row: Mapping[str, str], rows_of_run: int) -> ImportedRun:
    figures = _figures(path, line, row)
    own_id = row["run_id"].strip()
    ended = _timestamp(path, line, row["timestamp"])
    duration = figures["duration"]
    pue = figures["pue"]
    it_kwh = {c: figures[f"{c}_energy"] / pue for c in ("cpu", "gpu", "ram")}
    energy_kwh = figures["energy_consumed"] / pue
    notes = [f"imported from CodeCarbon's {path.name}, line {line}"]
    parts = sum(figures[f"{c}_energy"] for c in ("cpu", "gpu", "ram"))
    if abs(parts - figures["energy_consumed"]) > 1e-9 + 0.01 * figures["energy_consumed"]:
        notes.append(f"cpu_energy + gpu_energy + ram_energy ({parts:.6g} kWh) differ from energy_consumed "
                     f"({figures['energy_consumed']:.6g} kWh); the total is energy_consumed")
    gpu_count = figures["gpu_count"]
    wue = figures["wue"]
    if wue > 0:
        water_l: float | None = figures["water_consumed"]
    else:
        water_l = None
        notes.append("water not estimated: CodeCarbon's wue is " + ("0, its value for 'not set'" if wue == 0
                                                                     else "not in the file"))
    components = []
    for component in ("cpu", "gpu", "ram"):
        if component == "gpu" and it_kwh["gpu"] <= 0 and gpu_count <= 0:
            continue
        energy_j = it_kwh[component] * J_PER_KWH
        components.append(ComponentRecord(
            component=component, device=component, energy_j=energy_j,
            avg_power_w=energy_j / duration if duration > 0 else figures[f"{component}_power"] / pue,
            method=IMPORTED, uncertainty_rel=UNCERTAINTY[component],
        ))
    energy_j = energy_kwh * J_PER_KWH
    absolute = math.sqrt(sum((c.energy_j * c.uncertainty_rel) ** 2 for c in components))
    energy_u = absolute / energy_j if energy_j > 0 else max(UNCERTAINTY.values())
    key, name, said, intensity_u = _location(row)
    facility_kwh = figures["energy_consumed"]
    emissions_g = figures["emissions"] * 1000.0
    intensity = emissions_g / facility_kwh if facility_kwh > 0 else None
    version = _text(row, "codecarbon_version")
    hardware = [{"component": "cpu", "device": "cpu", "model": _text(row, "cpu_model"), "source": TOOL,
                 "power_limit_w": None, "detail": f"cpu_count {_text(row, 'cpu_count') or '?'} (from the file)"}]
    if gpu_count > 0 or it_kwh["gpu"] > 0:
        hardware.append({"component": "gpu", "device": "gpu", "model": _text(row, "gpu_model"), "source": TOOL,
                         "power_limit_w": None, "detail": f"gpu_count {gpu_count:g} (from the file)"})
    ram = _text(row, "ram_total_size")
    ram_model = f"{float(ram):.3g} GB" if ram and _is_number(ram) else ram
    hardware.append({"component": "ram", "device": "ram", "model": ram_model,
                     "source": TOOL, "power_limit_w": None, "detail": "ram_total_size (from the file)"})
    mode = _text(row, "tracking_mode") or "machine"
    run = RunRecord(
        run_id=stable_run_id(TOOL, own_id),
        project=_text(row, "project_name"),
        name=f"codecarbon {own_id[:8]}",
        status="finished",
        started_at=ended - duration,
        updated_at=ended,
        ended_at=ended,
        duration_s=duration,
        energy_j=energy_j,
        energy_uncertainty_rel=energy_u,
        attribution=mode,
        hostname=UNKNOWN_HOST,
        username=UNKNOWN_HOST,
        pid=0,
        wattprint_version=__version__,
        hardware=tuple(hardware),
        notes=tuple(notes),
        location=key,
        how_located=f"imported from codecarbon ({said})",
        intensity_g_per_kwh=intensity,
        intensity_zone=key,
        intensity_source=f"CodeCarbon {version or '(version not stated)'} data for {name or key or 'an unknown place'}",
        intensity_year=dt.datetime.fromtimestamp(ended).year,
        intensity_kind="average",
        intensity_uncertainty_rel=intensity_u,
        pue=pue,
        facility_energy_j=facility_kwh * J_PER_KWH,
        emissions_g=emissions_g,
        emissions_uncertainty_rel=math.hypot(energy_u, intensity_u),
        water_l=water_l,
        extra=RunExtra(
            imported_from=TOOL,
            tool_version=version,
            file=str(path),
            line=line,
            rows_of_run=rows_of_run,
            source_run_id=own_id,
            source_fields=dict(row),
            pue_source=f"CodeCarbon's pue setting, as the file states ({pue:g})",
            intensity_zone_name=name,
            intensity_year_source="the year of the row's timestamp: CodeCarbon's data as it stood then",
            timestamp_zone="CodeCarbon writes local time without a zone; read as this machine's local time",
            uncertainty_source=f"assigned by wattprint: the file states none ({docs('reports')})",
        ),
    )
    return ImportedRun(run, tuple(components))


def _is_number(text: str | None) -> bool:
    try:
        float(text or "")
    except ValueError:
        return False
    return True
