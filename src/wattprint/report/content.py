"""What a report says about one stored run, gathered once from its store records for every format.

The Markdown, HTML and LaTeX reports, the paper paragraph and the model-card block all read a
:class:`RunContent`: the run, its per-device totals, interval buckets and tasks, and what is derived from them
(power over time, the hardware in a phrase, the methods, the data sources with their years).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from wattprint.store.records import J_PER_KWH, ComponentRecord, IntervalRecord, RunRecord, TaskRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.equivalents import Equivalent

METHOD_WORDS = {
    "counter": "hardware energy counters",
    "sampled": "power readings integrated over time",
    "model": "a power model",
    "imported": "figures imported from another tool's records",
}
"""How each energy method reads in a sentence."""

_COMPONENT_METHOD_WORDS = {
    ("cpu", "counter"): "RAPL energy counters for the CPU",
    ("ram", "counter"): "RAPL DRAM energy counters for memory",
    ("gpu", "counter"): "the GPUs' energy counters (NVML or amdsmi)",
    ("cpu", "sampled"): "integrated CPU power readings",
    ("gpu", "sampled"): "integrated GPU power readings (NVML or amdsmi)",
    ("cpu", "model"): "a CPU power model (TDP x utilisation)",
    ("ram", "model"): "a memory power model (0.3725 W per GB in use)",
    ("gpu", "model"): "a GPU power model (TDP x utilisation)",
}


def energy_text(joules: float) -> str:
    """Energy with three significant figures in J (below 0.1 Wh), Wh or kWh."""
    wh = joules / 3600.0
    if wh < 0.1:
        return f"{joules:.3g} J"
    if wh < 1000:
        return f"{wh:.3g} Wh"
    return f"{wh / 1000:,.4g} kWh"


HOW_LOCATED_WORDS = {
    "argument": "the location was given explicitly",
    "config": "the location came from the configuration",
    "ip geolocation": "the location was found by IP geolocation",
    "location unknown": "the location was unknown, so the world average intensity was used",
    "given": "the intensity figure was given by the user",
}


def how_located_words(how: str | None) -> str:
    """``how_located`` in a phrase (``"the location was given explicitly"``)."""
    if not how:
        return "how the location was decided is not recorded"
    if how.startswith("cloud metadata"):
        return f"the location was read from the {how[len('cloud metadata'):].strip(' ()')} instance metadata"
    return HOW_LOCATED_WORDS.get(how, how)


@dataclass(frozen=True)
class PowerStep:
    """Average power per component over one interval bucket (offsets in seconds from the run's start)."""

    start_offset_s: float
    end_offset_s: float
    power_w: dict[str, float]
    energy_j: float

    @property
    def total_power_w(self) -> float:
        return sum(self.power_w.values())


@dataclass(frozen=True)
class Source:
    """One data source behind the figures: what it gave, its name, its year or vintage, its licence."""

    what: str
    source: str
    year: str | None = None
    licence: str | None = None


@dataclass(frozen=True)
class RunContent:
    """A stored run and everything a report derives from it."""

    run: RunRecord
    components: tuple[ComponentRecord, ...]
    intervals: tuple[IntervalRecord, ...]
    tasks: tuple[TaskRecord, ...]

    # -- simple facts ----------------------------------------------------------------------------------------------

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.run.extra or {})

    @property
    def energy_kwh(self) -> float:
        return self.run.energy_j / J_PER_KWH

    @property
    def facility_energy_kwh(self) -> float | None:
        return None if self.run.facility_energy_j is None else self.run.facility_energy_j / J_PER_KWH

    @property
    def has_carbon(self) -> bool:
        return self.run.emissions_g is not None

    @property
    def imported_from(self) -> str | None:
        """The tool the run was imported from (``codecarbon``, ``carbontracker``), None for a measured run."""
        value = self.extra.get("imported_from")
        return str(value) if value else None

    @property
    def title(self) -> str:
        parts = [p for p in (self.run.project, self.run.name) if p]
        return f"run {self.run.run_id[:12]}" + (f" ({' / '.join(parts)})" if parts else "")

    @property
    def location_name(self) -> str:
        """Where the run was priced, in words: ``"Google Cloud europe-west1: Belgium (gcp:europe-west1)"``, or
        ``"an unknown location (priced at World)"``."""
        run = self.run
        name = self.extra.get("intensity_name")
        if run.location is None:
            return f"an unknown location (priced at {name})" if name else "an unknown location"
        zone = run.intensity_zone or run.location
        if name and zone and name != zone:
            return f"{name} ({zone})"
        return str(name or zone)

    @property
    def location_sentence(self) -> str:
        """Where, and how that was decided."""
        return f"{self.location_name}; {how_located_words(self.run.how_located)}"

    def methods(self) -> list[tuple[str, str, float]]:
        """(component, method, uncertainty) per component, the energy-weighted uncertainty of its devices."""
        grouped: dict[str, list[ComponentRecord]] = defaultdict(list)
        for c in self.components:
            grouped[c.component].append(c)
        result = []
        for component, records in grouped.items():
            methods = sorted({r.method for r in records})
            energy = sum(r.energy_j for r in records)
            if energy > 0:
                uncertainty = sum(r.energy_j * r.uncertainty_rel for r in records) / energy
            else:
                uncertainty = max(r.uncertainty_rel for r in records)
            result.append((component, "+".join(methods), uncertainty))
        return result

    def method_sentence(self) -> str:
        """``"RAPL energy counters for the CPU and a memory power model (0.3725 W per GB in use)"``."""
        if self.imported_from:
            return f"figures imported from {self.imported_from}'s records ({self.extra.get('file', 'file unknown')})"
        parts = []
        for component, method, _ in self.methods():
            for one in method.split("+"):
                words = _COMPONENT_METHOD_WORDS.get((component, one))
                parts.append(words or f"{METHOD_WORDS.get(one, one)} for {component}")
        parts = list(dict.fromkeys(parts))
        if not parts:
            return "no component energy recorded"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    def hardware_phrase(self) -> str:
        """The hardware in a phrase: ``"8 x NVIDIA H100 80GB HBM3 GPU, AMD EPYC 7763 CPU, 512 GB RAM"``."""
        counts: dict[tuple[str, str], int] = {}
        for item in self.run.hardware:
            if not isinstance(item, dict):
                continue
            component = str(item.get("component") or "device")
            model = str(item.get("model") or "unknown model")
            counts[(component, model)] = counts.get((component, model), 0) + 1
        order = {"gpu": 0, "cpu": 1, "ram": 2}
        phrases = []
        for (component, model), n in sorted(counts.items(), key=lambda kv: (order.get(kv[0][0], 3), kv[0][1])):
            if component == "ram":
                phrases.append(f"{model} RAM" if model != "unknown model" else "RAM")
            else:
                label = component.upper() if len(component) <= 3 else component
                phrases.append(f"{n} x {model} {label}" if n > 1 else f"{model} {label}")
        if not phrases:
            phrases = sorted({c.component.upper() for c in self.components})
        return ", ".join(phrases) if phrases else "unrecorded hardware"

    def equivalents(self) -> list[Equivalent]:
        if self.run.emissions_g is None:
            return []
        from wattprint.equivalents import equivalents

        return equivalents(self.run.emissions_g)

    # -- power over time -------------------------------------------------------------------------------------------

    def power_steps(self) -> list[PowerStep]:
        """One step per interval bucket: each component's average power (the sum of its devices) and the energy."""
        buckets: dict[int, list[IntervalRecord]] = defaultdict(list)
        for record in self.intervals:
            buckets[record.bucket].append(record)
        steps = []
        for bucket in sorted(buckets):
            records = buckets[bucket]
            start = min(r.start_offset_s for r in records)
            end = max(r.end_offset_s for r in records)
            width = end - start
            power: dict[str, float] = defaultdict(float)
            for r in records:
                power[r.component] += r.energy_j / width if width > 0 else r.avg_power_w
            steps.append(PowerStep(start, end, dict(power), sum(r.energy_j for r in records)))
        return steps

    def power_components(self) -> list[str]:
        """Components that appear in the intervals, in a stable order (gpu, cpu, ram, then others)."""
        order = {"gpu": 0, "cpu": 1, "ram": 2}
        names = {r.component for r in self.intervals}
        return sorted(names, key=lambda n: (order.get(n, 3), n))

    # -- sources ---------------------------------------------------------------------------------------------------

    def sources(self) -> list[Source]:
        """Every data source behind the figures, with its year or vintage."""
        run, extra = self.run, self.extra
        found: list[Source] = []
        if self.imported_from:
            found.append(Source(
                "energy, emissions and location",
                f"{self.imported_from} {extra.get('tool_version') or ''}".strip() + f" file {extra.get('file')}",
            ))
        if run.intensity_source:
            found.append(Source(
                "grid carbon intensity",
                f"{run.intensity_source} ({run.intensity_zone})" if run.intensity_zone else run.intensity_source,
                str(run.intensity_year) if run.intensity_year else "undated",
                extra.get("intensity_licence") or None,
            ))
        if extra.get("pue_source"):
            found.append(Source("PUE", str(extra["pue_source"])))
        if extra.get("wue_source"):
            found.append(Source("water (WUE)", str(extra["wue_source"])))
        for item in run.hardware:
            if isinstance(item, dict) and item.get("source") == "model" and item.get("detail"):
                found.append(Source(f"{item.get('component')} power model", str(item["detail"])))
        if run.emissions_g is not None:
            for equivalent in self.equivalents():
                found.append(Source(f"equivalent: {equivalent.label} ({equivalent.unit})", equivalent.source,
                                    equivalent.vintage))
        return found


def run_content(store: Any, ref: str) -> RunContent:
    """The content of the run ``ref`` (an id, a unique prefix, or ``last``) in ``store``."""
    run = store.run(ref)
    return RunContent(
        run=run,
        components=tuple(store.components(run.run_id)),
        intervals=tuple(store.intervals(run.run_id)),
        tasks=tuple(store.tasks(run.run_id)),
    )


def content_from_records(
    run: RunRecord,
    components: Sequence[ComponentRecord] = (),
    intervals: Sequence[IntervalRecord] = (),
    tasks: Sequence[TaskRecord] = (),
) -> RunContent:
    """A :class:`RunContent` from records already read."""
    return RunContent(run, tuple(components), tuple(intervals), tuple(tasks))
