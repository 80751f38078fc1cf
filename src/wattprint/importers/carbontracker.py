"""Reading Carbontracker's log directory into wattprint runs.

Carbontracker writes, per tracker, ``<id>_<date>_carbontracker.log`` (the standard log: version, PUE, components
and devices, each epoch's duration and average power per component, the carbon intensity) and
``<id>_<date>_carbontracker_output.log`` (the predicted and actual consumption: time, energy in kWh *including*
its PUE, CO2eq in g). One standard log is one run, its id derived from the log's own name. Epochs become the
run's tasks and interval buckets; the IT energy of each device is its epoch powers times the epoch durations; the
facility energy and emissions are the output log's actual consumption, as the file states them. Timestamps are
the local time of the machine that wrote them (read as this machine's local time).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from wattprint._version import __version__
from wattprint.api.records import ComponentRecord, IntervalRecord, RunExtra, RunRecord, TaskRecord
from wattprint.core.methods import MODEL
from wattprint.core.units import J_PER_KWH
from wattprint.importers.common import (
    IMPORTED,
    UNKNOWN_HOST,
    ImportedRun,
    ImportFormatError,
    number,
    stable_run_id,
)
from wattprint.settings.hints import docs

TOOL = "carbontracker"
STANDARD_SUFFIX = "_carbontracker.log"
OUTPUT_SUFFIX = "_carbontracker_output.log"
UNCERTAINTY = {"cpu": 0.15, "gpu": 0.10}
"""CPU: Carbontracker reads RAPL (Intel or AMD; 15 %, AMD's figure in docs/measurement.md) or a CPU the user
simulated with a TDP; GPU: NVML power samples averaged per epoch (10 %, as wattprint's sampled NVIDIA figure)."""
OTHER_UNCERTAINTY = 0.5
MODEL_UNCERTAINTY = 0.5
"""A CPU that Carbontracker could not measure (no RAPL) gets a power it guessed: half a TDP from its table (or the
table's average TDP), or a simulated CPU's TDP times a fixed load, whatever the real load: a model, wider than
wattprint's own TDP x utilisation model (40 %, docs/measurement.md)."""
_RAPL_DEVICE = re.compile(r"^[a-z]+:\d+$")
"""Carbontracker names the devices it reads through RAPL after their zones (``cpu:0``, ``dram:1``); a CPU it
modelled carries a brand name instead (its generic handler's CPU brand, or the simulated CPU's name)."""
_MEASURED_CPU_DEVICES = ("CPU",)
"""Apple silicon, read through powermetrics."""
INTENSITY_UNCERTAINTY_KNOWN = 0.15
"""Carbontracker's country averages (or a live provider's figure), located by IP geolocation."""

_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:,\d+)? - (.*)$")
_DURATION = re.compile(r"^Duration: (-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)\s*$")
_POWER = re.compile(r"^Average power usage \(W\) for (\w+): (.*)$")
_EPOCH = re.compile(r"^Epoch (\d+):\s*$")
_COMPONENTS = re.compile(r"^The following components were found:(.*)$")
_DEVICES = re.compile(r"\s*([A-Za-z]+) with device\(s\) (.*?)\.(?=\s+[A-Z]+ with device\(s\)|\s*$)")
_PUE = re.compile(r"PUE coefficient of ([0-9.]+)(?: \((.*)\))?")
_AVG_INTENSITY = re.compile(r"^Average carbon intensity during training was ([0-9.]+) gCO2eq/kWh")
_FETCHED = re.compile(r"^Carbon intensities \(gCO2eq/kWh\) fetched every .*? at detected location: (.*): \[(.*)\]")
_VERSION = re.compile(r"^carbontracker version (\S+)")
_CONSUMPTION = re.compile(
    r"(Actual|Predicted) consumption(?: for (\d+) epoch\(s\))?:\s*\n\s*Time:\s*(\S+)\s*\n\s*Energy:\s*(\S+)\s+kWh"
    r"\s*\n\s*CO2eq:\s*(\S+)\s+g"
)


@dataclass
class _Epoch:
    number: int
    line: int
    ended_at: float
    duration_s: float | None = None
    power_w: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class _Log:
    version: str | None = None
    pue: float | None = None
    pue_source: str | None = None
    devices: dict[str, list[str]] = field(default_factory=dict)
    epochs: list[_Epoch] = field(default_factory=list)
    first_at: float | None = None
    last_at: float | None = None
    intensity: float | None = None
    fetched: list[float] = field(default_factory=list)
    address: str | None = None
    interrupted: bool = False
    ended: bool = False


def log_files(path: str | Path) -> list[Path]:
    """The standard logs in a log directory (or the one log given), sorted by name."""
    path = Path(path)
    if path.is_file():
        if not path.name.endswith(STANDARD_SUFFIX):
            raise ImportFormatError(path, f"is not a Carbontracker standard log (*{STANDARD_SUFFIX}); give the log "
                                          "directory or that file")
        return [path]
    if not path.is_dir():
        raise ImportFormatError(path, "no such directory or file")
    found = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(STANDARD_SUFFIX))
    if not found:
        raise ImportFormatError(path, f"has no Carbontracker log (*{STANDARD_SUFFIX}); is this the log_dir given to "
                                      "CarbonTracker?")
    return found


def read_carbontracker(path: str | Path) -> list[ImportedRun]:
    """The runs of a Carbontracker log directory (or of one standard log), every log checked first."""
    return [_run(log) for log in log_files(path)]


def _time(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").timestamp()  # local time, as Carbontracker writes it


def _lines(path: Path) -> list[tuple[int, float, str]]:
    """(line number, time, message) of each entry; continuation lines are folded into their entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ImportFormatError(path, f"is not UTF-8 text ({error})") from None
    except OSError as error:
        raise ImportFormatError(path, f"cannot be read ({error.strerror or error})") from None
    entries: list[tuple[int, float, str]] = []
    for number_, raw in enumerate(text.splitlines(), start=1):
        match = _LINE.match(raw)
        if match is None:
            if not entries:
                if raw.strip():
                    raise ImportFormatError(path, "does not start with a 'YYYY-MM-DD HH:MM:SS - ' entry: not a "
                                                  "Carbontracker log", line=number_)
                continue
            line, at, message = entries[-1]
            entries[-1] = (line, at, message + "\n" + raw)
            continue
        try:
            at = _time(match.group(1))
        except ValueError:
            raise ImportFormatError(path, f"{match.group(1)!r} is not a valid time", line=number_) from None
        entries.append((number_, at, match.group(2)))
    return entries


def _powers(path: Path, line: int, component: str, text: str, devices: int) -> list[float]:
    text = text.strip()
    name = f"average power for {component}"
    if text == "None":  # the epoch was too short for a reading: Carbontracker counts it as zero
        return [0.0] * max(1, devices)
    values = text.strip("[]").replace(",", " ").split()
    if not values:
        raise ImportFormatError(path, f"{text!r} holds no power", line=line, field_name=name)
    powers = []
    for value in values:
        power = number(path, value, name, line, unit="W")
        assert power is not None
        powers.append(power)
    if devices and len(powers) != devices:
        raise ImportFormatError(path, f"{len(powers)} power value(s) for {devices} {component} device(s)", line=line,
                                field_name=name)
    return powers


def _parse(path: Path) -> _Log:
    log = _Log()
    entries = _lines(path)
    if not entries:
        raise ImportFormatError(path, "is empty: not a Carbontracker log")
    log.first_at, log.last_at = entries[0][1], entries[-1][1]
    epoch: _Epoch | None = None
    for line, at, message in entries:
        if (m := _VERSION.match(message)) is not None:
            log.version = m.group(1)
        elif (m := _COMPONENTS.match(message)) is not None:
            for component, devices in _DEVICES.findall(m.group(1)):
                log.devices[component.lower()] = [d.strip() for d in devices.split(",") if d.strip()]
            if not log.devices:
                raise ImportFormatError(path, f"no component in {message!r}", line=line)
        elif (m := _EPOCH.match(message)) is not None:
            epoch = _Epoch(number=int(m.group(1)), line=line, ended_at=at)
            log.epochs.append(epoch)
        elif (m := _DURATION.match(message)) is not None:
            if epoch is None or epoch.duration_s is not None:
                raise ImportFormatError(path, "a duration outside an epoch", line=line, field_name="Duration")
            if m.group(1):
                raise ImportFormatError(path, "a negative duration", line=line, field_name="Duration")
            epoch.duration_s = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
            number(path, epoch.duration_s, "Duration", line, unit="s")
        elif (m := _POWER.match(message)) is not None:
            component = m.group(1).lower()
            if epoch is None:
                raise ImportFormatError(path, "a power reading outside an epoch", line=line,
                                        field_name=f"average power for {component}")
            if component not in log.devices:
                raise ImportFormatError(path, f"power for {component!r}, a component the log did not list",
                                        line=line)
            epoch.power_w[component] = _powers(path, line, component, m.group(2), len(log.devices[component]))
        elif message.startswith("Duration:"):
            raise ImportFormatError(path, f"{message!r} is not a duration H:MM:SS.ss", line=line,
                                    field_name="Duration")
        elif message.startswith("Average power usage"):
            raise ImportFormatError(path, f"{message!r} is not an average power reading", line=line)
        elif "PUE coefficient" in message and (m := _PUE.search(message)) is not None:
            log.pue = number(path, m.group(1), "PUE", line, minimum=1.0, unit="PUE")
            log.pue_source = m.group(2)
        elif (m := _AVG_INTENSITY.match(message)) is not None:
            log.intensity = number(path, m.group(1), "average carbon intensity", line, unit="g/kWh")
        elif (m := _FETCHED.match(message)) is not None:
            log.address = m.group(1).strip()
            for value in m.group(2).replace(",", " ").split():
                fetched = number(path, value, "carbon intensity", line, unit="g/kWh")
                assert fetched is not None
                log.fetched.append(fetched)
        elif message.startswith("Training was interrupted"):
            log.interrupted = True
        elif message.startswith("Monitoring thread ended"):
            log.ended = True
    if log.version is None and not log.devices:
        raise ImportFormatError(path, "has neither Carbontracker's version line nor its components line: not a "
                                      "Carbontracker log")
    if not log.devices:
        raise ImportFormatError(path, "lacks the 'The following components were found' line")
    for item in log.epochs:
        if item.duration_s is None:
            raise ImportFormatError(path, f"epoch {item.number} has no duration", line=item.line)
    return log


def _consumption(path: Path) -> dict[str, dict[str, float]]:
    """The actual and predicted consumption of an output log: {"actual": {epochs, time_s, energy_kwh, co2eq_g}}."""
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFormatError(path, f"cannot be read ({error})") from None
    found: dict[str, dict[str, float]] = {}
    for match in _CONSUMPTION.finditer(text):
        kind, epochs, time_text, energy, co2 = match.groups()
        line = text.count("\n", 0, match.start()) + 1
        clock = _DURATION.match(f"Duration: {time_text}")
        if clock is None or clock.group(1):
            raise ImportFormatError(path, f"{time_text!r} is not a time H:MM:SS", line=line, field_name="Time")
        figures = {
            "epochs": float(epochs) if epochs else math.nan,
            "time_s": int(clock.group(2)) * 3600 + int(clock.group(3)) * 60 + float(clock.group(4)),
            "energy_kwh": number(path, energy, "Energy", line, unit="kWh") or 0.0,
            "co2eq_g": number(path, co2, "CO2eq", line, unit="g") or 0.0,
        }
        found[kind.lower()] = figures
    for kind in ("Actual", "Predicted"):
        if f"{kind} consumption" in text and kind.lower() not in found:
            line = text.count("\n", 0, text.index(f"{kind} consumption")) + 1
            raise ImportFormatError(path, f"the {kind.lower()} consumption lacks its Time, Energy (kWh) or CO2eq (g) "
                                          "lines", line=line)
    return found


def _run(std: Path) -> ImportedRun:
    log = _parse(std)
    prefix = std.name[: -len(STANDARD_SUFFIX)]
    output = std.with_name(prefix + OUTPUT_SUFFIX)
    consumption = _consumption(output)
    actual = consumption.get("actual")
    pue = log.pue
    source = std.resolve()

    # intervals and tasks, one per epoch; offsets from the first epoch's start
    epochs = log.epochs
    t0 = (epochs[0].ended_at - (epochs[0].duration_s or 0.0)) if epochs else (log.first_at or 0.0)
    energy_by_device: dict[tuple[str, str], float] = {}
    intervals: list[IntervalRecord] = []
    tasks: list[TaskRecord] = []
    previous_end = 0.0
    intensity = log.intensity if log.intensity is not None else (
        sum(log.fetched) / len(log.fetched) if log.fetched else None)
    g_per_j = (pue or 1.0) * intensity / J_PER_KWH if intensity is not None else None
    modelled = _modelled_components(log)
    method_of = {c: MODEL if c in modelled else IMPORTED for c in log.devices}
    uncertainty_of = {c: MODEL_UNCERTAINTY if c in modelled else UNCERTAINTY.get(c, OTHER_UNCERTAINTY)
                      for c in log.devices}
    for index, epoch in enumerate(epochs):
        duration = epoch.duration_s or 0.0
        start = max(previous_end, epoch.ended_at - duration - t0)
        end = start + duration
        previous_end = end
        task_components = []
        task_energy = 0.0
        for component, devices in log.devices.items():
            powers = epoch.power_w.get(component, [0.0] * len(devices))
            uncertainty, method = uncertainty_of[component], method_of[component]
            for device, power in zip(devices, powers, strict=False):
                energy = power * duration
                key = (component, device)
                energy_by_device[key] = energy_by_device.get(key, 0.0) + energy
                intervals.append(IntervalRecord(
                    bucket=index, start_offset_s=start, end_offset_s=end, component=component, device=device,
                    energy_j=energy, avg_power_w=power, method=method, uncertainty_rel=uncertainty,
                    emissions_g=energy * g_per_j if g_per_j is not None else None,
                    intensity_g_per_kwh=intensity,
                ))
            component_energy = sum(p * duration for p in powers)
            task_energy += component_energy
            task_components.append(ComponentRecord(component, "all", component_energy, sum(powers), method,
                                                   uncertainty))
        absolute = sum(c.energy_j * c.uncertainty_rel for c in task_components)
        tasks.append(TaskRecord(
            seq=index, name=f"epoch {epoch.number}", started_at=t0 + start, duration_s=duration,
            energy_j=task_energy, uncertainty_rel=absolute / task_energy if task_energy > 0 else OTHER_UNCERTAINTY,
            method=_one_method(task_components), components=tuple(task_components),
        ))
    duration_s = sum(e.duration_s or 0.0 for e in epochs)
    components = tuple(
        ComponentRecord(component, device, energy, energy / duration_s if duration_s > 0 else 0.0,
                        method_of[component], uncertainty_of[component])
        for (component, device), energy in energy_by_device.items()
    )
    energy_j = sum(energy_by_device.values())
    notes = [f"imported from Carbontracker's {std.name}" + (f" and {output.name}" if output.exists() else "")]
    for component in sorted(modelled):
        listed = ", ".join(log.devices[component])
        notes.append(
            f"{component.upper()} power not measured: Carbontracker had no RAPL counter for {listed} and used a "
            f"power guessed from a TDP (half the TDP, or a simulated CPU's TDP times a fixed load); labelled "
            f"model, ±{MODEL_UNCERTAINTY:.0%}"
        )
    # devices of one component share one method (correlated); components are independent
    by_component: dict[str, float] = {}
    for c in components:
        by_component[c.component] = by_component.get(c.component, 0.0) + c.energy_j * c.uncertainty_rel
    energy_u = (math.sqrt(sum(v * v for v in by_component.values())) / energy_j if energy_j > 0
                else max(UNCERTAINTY.values()))
    facility_kwh: float | None = None
    emissions_g: float | None = None
    if actual is not None:
        facility_kwh = actual["energy_kwh"]
        emissions_g = actual["co2eq_g"]
        if pue is None and energy_j > 0:
            pue = facility_kwh * J_PER_KWH / energy_j
        if intensity is None and facility_kwh > 0:
            intensity = emissions_g / facility_kwh
    elif intensity is not None and pue is not None:
        facility_kwh = energy_j * pue / J_PER_KWH
        emissions_g = facility_kwh * intensity
        notes.append("the output log has no actual consumption: emissions computed by wattprint from the epochs, "
                     "the log's PUE and its intensity")
    else:
        notes.append("the logs give no consumption and no intensity: emissions not computed")
    located = log.address not in (None, "", "Unknown")
    place, name = _place(log.address if located else None)
    intensity_u = INTENSITY_UNCERTAINTY_KNOWN if located else _unknown_uncertainty()
    status = "finished" if (log.ended or actual is not None) else "killed"
    ended_at = t0 + previous_end if epochs else (log.last_at or t0)
    pid_text = prefix.split("_")[-1].split(".")[0]
    run = RunRecord(
        run_id=stable_run_id(TOOL, prefix),
        project=None,
        name=f"carbontracker {prefix}",
        status=status,
        started_at=t0,
        updated_at=log.last_at or ended_at,
        ended_at=ended_at,
        duration_s=duration_s,
        energy_j=energy_j,
        energy_uncertainty_rel=energy_u,
        attribution="machine",
        hostname=UNKNOWN_HOST,
        username=UNKNOWN_HOST,
        pid=int(pid_text) if pid_text.isdigit() else 0,
        wattprint_version=__version__,
        hardware=tuple(
            {"component": component, "device": device, "model": device, "source": TOOL, "power_limit_w": None,
             "detail": "as listed by Carbontracker"}
            for component, devices in log.devices.items() for device in devices
        ),
        notes=tuple(notes),
        location=place,
        how_located=("imported from carbontracker (IP geolocation: " + str(log.address) + ")") if located
        else "imported from carbontracker (location not detected: world average)",
        intensity_g_per_kwh=intensity if emissions_g is not None else None,
        intensity_zone=place if located else "WORLD",
        intensity_source=f"Carbontracker {log.version or ''}".rstrip()
        + (f" for {log.address}" if located else " world average"),
        intensity_year=None,
        intensity_kind="average",
        intensity_uncertainty_rel=intensity_u if emissions_g is not None else None,
        pue=pue if emissions_g is not None else None,
        facility_energy_j=facility_kwh * J_PER_KWH if facility_kwh is not None else None,
        emissions_g=emissions_g,
        emissions_uncertainty_rel=math.hypot(energy_u, intensity_u) if emissions_g is not None else None,
        extra=RunExtra(
            imported_from=TOOL,
            tool_version=log.version,
            file=str(source),
            output_file=str(output.resolve()) if output.exists() else None,
            source_run_id=prefix,
            source_fields={
                "pue": log.pue, "pue_source": log.pue_source, "devices": log.devices,
                "average_intensity_g_per_kwh": log.intensity, "fetched_intensities": log.fetched,
                "address": log.address, "interrupted": log.interrupted, "consumption": consumption,
                "epochs": len(epochs),
            },
            pue_source=f"Carbontracker's PUE ({log.pue_source})" if log.pue_source else "Carbontracker's PUE",
            intensity_zone_name=name or (log.address if located else "world average (Carbontracker)"),
            timestamp_zone="Carbontracker writes local time; read as this machine's local time",
            uncertainty_source=f"assigned by wattprint: the logs state none ({docs('reports')})",
        ),
    )
    return ImportedRun(run, components, tuple(intervals), tuple(tasks))


def _modelled_components(log: _Log) -> set[str]:
    """Components whose power Carbontracker guessed from a TDP instead of reading a counter (only the CPU can be)."""
    devices = log.devices.get("cpu")
    if not devices:
        return set()
    if all(_RAPL_DEVICE.match(d) or d in _MEASURED_CPU_DEVICES for d in devices):
        return set()
    return {"cpu"}


def _one_method(components: list[ComponentRecord]) -> str:
    """The method of a whole made of ``components``: theirs if they share one, else ``imported``."""
    methods = {c.method for c in components}
    return methods.pop() if len(methods) == 1 else IMPORTED


def _place(address: str | None) -> tuple[str | None, str | None]:
    """Our location key for Carbontracker's geolocated address (``"City, Region, DK"``), when the tables know it."""
    from wattprint.data import lookup_intensity

    if not address:
        return None, None
    country = address.split(",")[-1].strip()
    record = lookup_intensity(country) if country else None
    if record is None:
        return address, address
    return record.key, record.name


def _unknown_uncertainty() -> float:
    from wattprint.carbon.intensity import UNKNOWN_LOCATION_UNCERTAINTY

    return UNKNOWN_LOCATION_UNCERTAINTY
