"""What a report says about one stored run, gathered once from its store records for every format.

The Markdown, HTML and LaTeX reports, the paper paragraph and the model-card block all read a
:class:`RunContent`: the run, its per-device totals, interval buckets and tasks, and what is derived from them
(power over time, the hardware in a phrase, the methods, the data sources with their years).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from wattprint.api.records import ComponentRecord, IntervalRecord, RunExtra, RunRecord, TaskRecord
from wattprint.core.units import J_PER_KWH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.accounting.equivalents import Equivalent
    from wattprint.api.records import RequestIntervalRecord
    from wattprint.run.request_figures import InferenceResult

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


MEASURED_METHODS = frozenset({"counter", "sampled"})
"""Methods that measure (a hardware counter, integrated power readings); ``model`` estimates."""


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


SLIVER_FRACTION = 0.2
"""A bucket narrower than this fraction of the one before it is drawn as part of that one."""
MIN_CHART_STEPS = 3
"""Fewer interval steps than this make a chart that shows nothing: finer task steps are used when there are any."""


def _step(start: float, end: float, energy: dict[str, float]) -> PowerStep:
    width = end - start
    power = {name: (joules / width if width > 0 else 0.0) for name, joules in energy.items()}
    return PowerStep(start, end, power, sum(energy.values()))


def _seconds(value: float) -> str:
    return f"{value:.3g} s"


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
    requests: tuple[RequestIntervalRecord, ...] = ()
    """The run's requests summed per time bucket and endpoint (docs/inference.md); none for a run that served none."""

    @property
    def inference(self) -> InferenceResult | None:
        """The inference figures rebuilt from the stored request sums; None when the run served no requests."""
        from wattprint.report.inference import stored_inference

        return stored_inference(self.run, self.requests) if self.requests else None

    # -- simple facts ----------------------------------------------------------------------------------------------

    @property
    def details(self) -> RunExtra:
        return self.run.details

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
        return self.details.imported_from or None

    @property
    def title(self) -> str:
        parts = [p for p in (self.run.project, self.run.name) if p]
        return f"run {self.run.run_id[:12]}" + (f" ({' / '.join(parts)})" if parts else "")

    @property
    def location_name(self) -> str:
        """Where the run was priced, in words: ``"Google Cloud europe-west1: Belgium (gcp:europe-west1)"``, or
        ``"an unknown location (priced at World)"``."""
        run = self.run
        name = self.details.intensity_zone_name
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

    def _used_methods(self) -> dict[str, set[str]]:
        """component -> the methods that gave it energy (all its methods when none did)."""
        used: dict[str, set[str]] = defaultdict(set)
        for c in self.components:
            if c.energy_j > 0:
                used[c.component].add(c.method)
        for c in self.components:
            if c.component not in used:
                used[c.component].add(c.method)
        return used

    @property
    def obtained(self) -> str:
        """How the energy was obtained, for the wording of a report: ``measured`` (counters, sampled power),
        ``estimated`` (a power model only), ``mixed`` (some components each way) or ``imported``."""
        if self.imported_from:
            return "imported"
        methods = {m for ms in self._used_methods().values() for m in ms}
        if not methods or methods <= MEASURED_METHODS:
            return "measured"
        if not methods & MEASURED_METHODS:
            return "estimated"
        return "mixed"

    def obtained_phrase(self, tool: str) -> str:
        """``"measured with wattprint 0.4"``, ``"estimated with a power model by wattprint 0.4"`` or ``"measured
        (cpu) and estimated with a power model (ram) by wattprint 0.4"``: the wording follows the method."""
        kind = self.obtained
        if kind == "estimated":
            return f"estimated with a power model by {tool} (no component was measured)"
        if kind == "mixed":
            used = self._used_methods()
            measured = sorted(c for c, ms in used.items() if ms & MEASURED_METHODS)
            modelled = sorted(c for c, ms in used.items() if not ms <= MEASURED_METHODS)
            return (f"measured ({', '.join(measured)}) and estimated with a power model ({', '.join(modelled)}) "
                    f"by {tool}")
        return f"measured with {tool}"

    def method_sentence(self) -> str:
        """``"RAPL energy counters for the CPU and a memory power model (0.3725 W per GB in use)"``."""
        if self.imported_from:
            return f"figures imported from {self.imported_from}'s records ({self.details.file or 'file unknown'})"
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
        from wattprint.accounting.equivalents import equivalents

        return equivalents(self.run.emissions_g)

    # -- power over time -------------------------------------------------------------------------------------------

    def power_steps(self) -> list[PowerStep]:
        """One step per interval bucket: each component's average power (the sum of its devices' energy over the
        bucket's own width) and the energy. A sliver of a bucket (the part after the last full one, narrower than
        a fifth of the bucket before it) is folded into that one: over a few milliseconds a counter's step or a
        model not yet sampled (RAM at 0 W) would draw as a spike that no power ever was."""
        buckets: dict[int, list[IntervalRecord]] = defaultdict(list)
        for record in self.intervals:
            buckets[record.bucket].append(record)
        spans: list[tuple[float, float, dict[str, float]]] = []
        for bucket in sorted(buckets):
            records = buckets[bucket]
            start = min(r.start_offset_s for r in records)
            end = max(r.end_offset_s for r in records)
            energy: dict[str, float] = defaultdict(float)
            for r in records:
                energy[r.component] += r.energy_j
            if spans and end - start < SLIVER_FRACTION * (spans[-1][1] - spans[-1][0]):
                before_start, _, before = spans[-1]
                merged = dict(before)
                for name, joules in energy.items():
                    merged[name] = merged.get(name, 0.0) + joules
                spans[-1] = (before_start, end, merged)
            else:
                spans.append((start, end, dict(energy)))
        return [_step(start, end, energy) for start, end, energy in spans]

    def chart_steps(self) -> tuple[list[PowerStep], str]:
        """The steps a power chart draws and a note on their resolution.

        Interval buckets are 10 s wide in a run's first hour, so a run of a few seconds has one: its chart would
        be one flat block. When the tasks (epochs, steps) of such a run tile it more finely they are drawn
        instead; otherwise the note says that the chart shows averages over the buckets only.
        """
        steps = self.power_steps()
        if len(steps) >= MIN_CHART_STEPS:
            return steps, ""
        tasks = self.task_steps()
        if len(tasks) > len(steps):
            return tasks, (f"drawn from the run's {len(tasks)} tasks, as its {len(steps)} interval record(s) "
                           "(10 s wide in a run's first hour) are too coarse")
        if steps:
            width = steps[-1].end_offset_s - steps[0].start_offset_s
            return steps, (f"this run of {_seconds(width)} has {len(steps)} interval record(s) and no finer tasks: "
                           "the chart shows the average power over each, not its variation")
        return steps, ""

    def task_steps(self) -> list[PowerStep]:
        """One step per task when the tasks follow one another without overlapping (else none)."""
        started = self.run.started_at
        spans = sorted(
            (t.started_at - started, t.started_at - started + t.duration_s, t) for t in self.tasks if t.duration_s > 0
        )
        if not spans or any(b[0] < a[1] - 1e-6 for a, b in zip(spans, spans[1:], strict=False)):
            return []
        steps = []
        for start, end, task in spans:
            energy: dict[str, float] = defaultdict(float)
            for c in task.components:
                energy[c.component] += c.energy_j
            if not energy:
                energy["total"] = task.energy_j
            steps.append(_step(start, end, dict(energy)))
        return steps

    def power_components(self) -> list[str]:
        """Components that appear in the intervals, in a stable order (gpu, cpu, ram, then others)."""
        order = {"gpu": 0, "cpu": 1, "ram": 2}
        names = {r.component for r in self.intervals}
        return sorted(names, key=lambda n: (order.get(n, 3), n))

    # -- sources ---------------------------------------------------------------------------------------------------

    def sources(self) -> list[Source]:
        """Every data source behind the figures, with its year or vintage."""
        run, extra = self.run, self.details
        found: list[Source] = []
        from wattprint.accounting.equivalents import readable

        if self.imported_from:
            found.append(Source(
                "energy, emissions and location",
                f"{self.imported_from} {extra.tool_version or ''}".strip() + f" file {extra.file}",
            ))
        if run.intensity_source:
            found.append(Source(
                "grid carbon intensity",
                f"{run.intensity_source} ({run.intensity_zone})" if run.intensity_zone else run.intensity_source,
                str(run.intensity_year) if run.intensity_year else NOT_STATED,
                extra.intensity_licence or None,
            ))
        if extra.pue_source:
            found.append(Source("PUE", extra.pue_source, _stated_year(extra.pue_source)))
        if extra.wue_source and run.water_l is not None:
            found.append(Source("water (WUE)", extra.wue_source, _stated_year(extra.wue_source)))
        for item in run.hardware:
            if isinstance(item, dict) and item.get("source") == "model" and item.get("detail"):
                found.append(Source(f"{item.get('component')} power model", str(item["detail"]), MODEL_YEAR))
        if run.emissions_g is not None:
            for equivalent in readable(self.equivalents()):
                found.append(Source(f"equivalent: {equivalent.label} ({equivalent.unit})", equivalent.source,
                                    equivalent.vintage))
        return found


MODEL_YEAR = "not applicable (a model)"
NOT_STATED = "not stated by the source"
"""The year column of a source that gives no data year (never "undated" beside a source that names a date)."""


def _stated_year(source: str) -> str:
    """The year a PUE or WUE source names (``"... (global average, 2024; AWS ...)"`` -> ``"2024"``); a figure the
    user gave is ``"given"``."""
    import re

    if source.startswith("given"):
        return "given"
    found = re.search(r", ((?:19|20)\d\d);", source)
    if found is None and "not stated" not in source:  # a code snapshot's date (2024-03-25) is no data year
        found = re.search(r"\b((?:19|20)\d\d)\b(?!-\d)", source)
    return found.group(1) if found else NOT_STATED


def run_content(store: Any, ref: str) -> RunContent:
    """The content of the run ``ref`` (an id, a unique prefix, or ``last``) in ``store``."""
    from wattprint.report.inference import read_requests

    run = store.run(ref)
    return RunContent(
        run=run,
        components=tuple(store.components(run.run_id)),
        intervals=tuple(store.intervals(run.run_id)),
        tasks=tuple(store.tasks(run.run_id)),
        requests=read_requests(store, run.run_id),
    )


def content_from_records(
    run: RunRecord,
    components: Sequence[ComponentRecord] = (),
    intervals: Sequence[IntervalRecord] = (),
    tasks: Sequence[TaskRecord] = (),
    requests: Sequence[RequestIntervalRecord] = (),
) -> RunContent:
    """A :class:`RunContent` from records already read (``requests``: the run's request sums, if it served any)."""
    return RunContent(run, tuple(components), tuple(intervals), tuple(tasks), tuple(requests))
