"""Energy and emissions per query of a model you do not run, from published measurements (ML.ENERGY Leaderboard v3).

``estimate_inference()`` answers "what does one chat answer, image or video cost?" for a hosted service: it reads the
leaderboard's measured configurations (``wattprint.data.inference_measurements``: GPU energy per output token, per
image, per video, on H100 SXM and B200 GPUs), takes the figure at the requested batch limit for every measured model
of the task, interpolates between model sizes in log-log space (active parameters), and multiplies by the tokens or
images of one query. The range (low, high) is the spread of the measured configurations it drew on: other batch
limits and, where several were measured, other models of the same size and other GPU counts or precisions.

The figures are GPU energy, the leaderboard's scope; host CPU and memory are added only as a factor the caller
states (``host_overhead``), and the facility (PUE) and grid intensity by the same accounting as a measured run. The
method is ``model``: nothing here was measured on the caller's service. How and why: docs/inference.md.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from wattprint.core.errors import ConfigError, check_number
from wattprint.core.units import J_PER_KWH
from wattprint.settings.hints import docs, setting
from wattprint.settings.hints import name as _named

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.accounting.footprint import Footprint
    from wattprint.carbon.intensity import Intensity
    from wattprint.data import InferenceMeasurement

__all__ = [
    "GPU_FAMILIES",
    "LLM_TASKS",
    "METHOD",
    "SOURCE",
    "TASKS",
    "InferenceEstimate",
    "PowerLaw",
    "SizePoint",
    "estimate_inference",
    "fit_power_law",
    "point_neighbours",
]

METHOD = "model"
"""Every figure of an inference estimate is modelled from others' measurements, never measured on the service."""
SOURCE = "ML.ENERGY Leaderboard v3 (Chung et al., https://ml.energy/leaderboard), data of 2026-02-16"
SOURCE_YEAR = 2026

LLM_TASKS = ("lm-arena-chat", "gpqa", "sourcegraph-fim", "image-chat", "video-chat")
DIFFUSION_TASKS = {"text-to-image": "image", "text-to-video": "video"}
TASKS = (*LLM_TASKS, *DIFFUSION_TASKS)
TASK_ALIASES = {
    "chat": "lm-arena-chat",
    "reasoning": "gpqa",
    "code": "sourcegraph-fim",
    "image": "text-to-image",
    "video": "text-to-video",
}
"""Everyday names for the leaderboard's tasks (its names work too)."""
TASK_DESCRIPTIONS = {
    "lm-arena-chat": "chat (LMArena conversations)",
    "gpqa": "reasoning (GPQA questions, long thinking)",
    "sourcegraph-fim": "code completion (Sourcegraph fill-in-the-middle)",
    "image-chat": "chat about an image",
    "video-chat": "chat about a video",
    "text-to-image": "text to image",
    "text-to-video": "text to video",
}
GPU_FAMILIES = {"h100": "H100", "b200": "B200"}
"""GPU model words -> the leaderboard's GPU. Its H100s are the SXM part: single-GPU rows draw up to about 690 W,
beyond the 350-400 W limit of the PCIe and NVL cards."""
MIN_PARAMS = 1e6
"""A parameter count below this is taken for billions given by mistake (``params=8`` for 8e9)."""


@dataclass(frozen=True)
class SizePoint:
    """The figure of one model size at the operating point: its central value and the measured range around it."""

    active_params_b: float
    energy_j: float
    low_j: float
    high_j: float
    models: tuple[str, ...]


@dataclass(frozen=True)
class InferenceEstimate:
    """The energy and emissions of one query (and of 1,000) to a model served on ``gpu``, estimated from published
    measurements. Energies are per query, in joules; ``gpu_energy_*`` are the leaderboard's scope (GPU only),
    ``energy_*`` add ``host_overhead`` (IT energy); ``footprint`` prices ``energy_j`` (PUE, grid intensity).

    ``energy_low_j``/``energy_high_j`` bound the measured configurations drawn on (not a confidence interval);
    ``energy_uncertainty_rel`` is that range read as a uniform spread ((high - low) / sqrt(12) / central).
    """

    task: str
    unit: str
    units_per_query: float
    tokens_in: int | None
    params: float | None
    active_params: float | None
    model: str | None
    gpu: str
    batch: int | None
    precision: str | None
    energy_per_unit_j: float
    energy_per_unit_low_j: float
    energy_per_unit_high_j: float
    gpu_energy_j: float
    gpu_energy_low_j: float
    gpu_energy_high_j: float
    host_overhead: float
    energy_j: float
    energy_low_j: float
    energy_high_j: float
    energy_uncertainty_rel: float
    footprint: Footprint
    size_points: tuple[SizePoint, ...]
    configurations: tuple[dict[str, Any], ...]
    how: tuple[str, ...]
    notes: tuple[str, ...] = ()
    fit: PowerLaw | None = None
    """The power law over model sizes the figure came from (None for a named model or a single measured size)."""
    method: str = METHOD
    source: str = SOURCE
    source_year: int = SOURCE_YEAR
    scope: str = field(default="")

    @property
    def energy_wh(self) -> float:
        return self.energy_j / 3600.0

    @property
    def energy_wh_per_1000(self) -> float:
        """IT energy of 1,000 such queries, in Wh."""
        return self.energy_j * 1000.0 / 3600.0

    @property
    def facility_energy_j(self) -> float:
        return self.footprint.facility_energy_kwh * J_PER_KWH

    @property
    def pue(self) -> float:
        return self.footprint.pue

    @property
    def intensity(self) -> Intensity:
        return self.footprint.intensity

    @property
    def emissions_g(self) -> float:
        return self.footprint.emissions_g

    @property
    def emissions_low_g(self) -> float:
        """Emissions at the low end of the energy range (PUE and intensity at their central values)."""
        return self._emissions_of(self.energy_low_j)

    @property
    def emissions_high_g(self) -> float:
        return self._emissions_of(self.energy_high_j)

    @property
    def emissions_g_per_1000(self) -> float:
        return self.emissions_g * 1000.0

    @property
    def emissions_uncertainty_rel(self) -> float:
        return self.footprint.emissions_uncertainty_rel

    def _emissions_of(self, energy_j: float) -> float:
        return energy_j / J_PER_KWH * self.footprint.pue * self.footprint.intensity.g_per_kwh

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: every figure with its unit in its name, the method, source and what it drew on."""
        from wattprint.plan.estimate import intensity_json

        footprint = self.footprint
        return {
            "method": self.method,
            "scope": self.scope,
            "source": self.source,
            "source_year": self.source_year,
            "task": self.task,
            "unit": self.unit,
            "units_per_query": self.units_per_query,
            "tokens_in": self.tokens_in,
            "params": self.params,
            "active_params": self.active_params,
            "model": self.model,
            "gpu": self.gpu,
            "batch": self.batch,
            "precision": self.precision,
            f"gpu_energy_per_{self.unit}_j": self.energy_per_unit_j,
            f"gpu_energy_per_{self.unit}_low_j": self.energy_per_unit_low_j,
            f"gpu_energy_per_{self.unit}_high_j": self.energy_per_unit_high_j,
            "gpu_energy_j": self.gpu_energy_j,
            "gpu_energy_low_j": self.gpu_energy_low_j,
            "gpu_energy_high_j": self.gpu_energy_high_j,
            "host_overhead": self.host_overhead,
            "energy_j": self.energy_j,
            "energy_low_j": self.energy_low_j,
            "energy_high_j": self.energy_high_j,
            "energy_wh": self.energy_wh,
            "energy_uncertainty_rel": self.energy_uncertainty_rel,
            "facility_energy_j": self.facility_energy_j,
            "pue": footprint.pue,
            "pue_source": footprint.pue_source,
            "emissions_g": self.emissions_g,
            "emissions_low_g": self.emissions_low_g,
            "emissions_high_g": self.emissions_high_g,
            "emissions_uncertainty_rel": self.emissions_uncertainty_rel,
            "per_1000": {
                "energy_wh": self.energy_wh_per_1000,
                "energy_low_wh": self.energy_low_j / 3.6,
                "energy_high_wh": self.energy_high_j / 3.6,
                "facility_energy_wh": self.facility_energy_j / 3.6,
                "emissions_g": self.emissions_g_per_1000,
                "emissions_low_g": self.emissions_low_g * 1000.0,
                "emissions_high_g": self.emissions_high_g * 1000.0,
            },
            "intensity": intensity_json(footprint.intensity),
            "location": footprint.intensity.zone if footprint.intensity.location_known else None,
            "size_points": [
                {"active_params_b": p.active_params_b, f"gpu_energy_per_{self.unit}_j": p.energy_j,
                 "low_j": p.low_j, "high_j": p.high_j, "models": list(p.models)}
                for p in self.size_points
            ],
            "fit": None if self.fit is None else {"coefficient_j": self.fit.coefficient_j,
                                                  "exponent": self.fit.exponent, "points": self.fit.points},
            "configurations": [dict(c) for c in self.configurations],
            "how": list(self.how),
            "notes": [*self.notes, *footprint.notes],
        }

    def lines(self) -> list[str]:
        """The estimate in a few lines of text, every figure labelled with its scope and method."""
        per = f"{self.units_per_query:g} {self.unit}{'s' if self.units_per_query != 1 else ''}"
        what = self.model or (
            f"{self.params / 1e9:g}B parameters" + (f" ({self.active_params / 1e9:g}B active)"
                                                    if self.active_params and self.active_params != self.params
                                                    else "")
            if self.params else "?"
        )
        batch = f"batch limit {self.batch}" if self.batch else "batch unknown (the measured range)"
        out = [
            f"one query: {TASK_DESCRIPTIONS[self.task]}, {per}, {what} on {self.gpu}, {batch}",
            f"  GPU energy    {_j(self.gpu_energy_j)}  (range {_j(self.gpu_energy_low_j)} to "
            f"{_j(self.gpu_energy_high_j)}; {self.energy_per_unit_j:.4g} J per {self.unit})",
        ]
        if self.host_overhead:
            out.append(f"  IT energy     {_j(self.energy_j)}  (GPU + {self.host_overhead:.0%} host CPU and memory, "
                       "as given)")
        out += [
            f"  facility      {_j(self.facility_energy_j)}  (x PUE {self.pue:g}: {self.footprint.pue_source})",
            f"  emissions     {self.emissions_g:.3g} gCO2e ±{self.emissions_uncertainty_rel:.0%}  (range "
            f"{self.emissions_low_g:.3g} to {self.emissions_high_g:.3g} g)",
            f"  per 1,000     {self.energy_wh_per_1000:.4g} Wh {self.scope}, {self.emissions_g_per_1000:.4g} gCO2e",
            f"  grid          {self.footprint.intensity.describe()}",
            f"method: {self.method} ({self.scope}); source: {self.source}",
            *(f"  {line}" for line in self.how),
            *(f"note: {line}" for line in (*self.notes, *self.footprint.notes)),
        ]
        return out


def _j(joules: float) -> str:
    return f"{joules:.4g} J ({joules / 3600.0:.3g} Wh)"


# -- arguments -----------------------------------------------------------------------------------------------------


def _task(task: object, tokens_out: object, images: object, videos: object) -> str:
    if task is None:
        if images is not None:
            return "text-to-image"
        if videos is not None:
            return "text-to-video"
        return "lm-arena-chat"
    if not isinstance(task, str):
        raise ConfigError(f"task must be a name such as 'chat' or 'text-to-image', got {task!r}")
    key = task.strip().casefold()
    key = TASK_ALIASES.get(key, key)
    if key not in TASKS:
        known = ", ".join([*TASK_ALIASES, *TASKS])
        raise ConfigError(f"task {task!r} is not one the leaderboard measured; {setting('task')} one of: {known}")
    return key


def _gpu(gpu: object) -> str:
    from wattprint.data import normalize_gpu_name

    known = "'H100 SXM' (or 'H100'), 'B200'"
    if not isinstance(gpu, str) or not gpu.strip():
        raise ConfigError(f"gpu must name the serving GPU, one of {known}; got {gpu!r}")
    parsed = normalize_gpu_name(gpu)
    family = GPU_FAMILIES.get(" ".join(parsed.base))
    if family is None:
        raise ConfigError(f"gpu {gpu!r} has no published inference measurements here; the leaderboard measured "
                          f"{known}: {setting('gpu')} one of them (the closest in generation)")
    if family == "H100" and parsed.form not in (None, "sxm"):
        form = {"pcie": "PCIe"}.get(parsed.form or "", (parsed.form or "").upper())
        raise ConfigError(f"gpu {gpu!r}: the leaderboard measured the H100 SXM (700 W); the {form} "
                          f"card has a lower power limit, so its figures would differ: {setting('gpu')} 'H100 SXM' "
                          "to use them anyway")
    return family


def _positive_int(label: str, value: object, maximum: float) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ConfigError(f"{label} must be a whole number, got {value!r}")
    return int(check_number(label, value, minimum=1, maximum=maximum))


def _params(label: str, value: object) -> float:
    number = check_number(label, value, minimum=0.0, maximum=1e14)
    if number < MIN_PARAMS:
        raise ConfigError(f"{label} is a number of parameters ({number:g}e9 for {number:g} billion), got "
                          f"{value!r}; {_given(label, f'{number:g}e9')} if billions were meant")
    return number


def _given(label: str, value: str) -> str:
    """``params=8e9`` in Python, ``--params 8e9`` on the command line."""
    named = _named(label)
    return f"pass {named}{value}" if named.endswith("=") else f"give {named} {value}"


def _where(location: str | None, intensity: float | None) -> Intensity:
    from wattprint.carbon import locate, resolve_location
    from wattprint.plan.estimate import given_intensity

    if intensity is None:
        return locate(location)
    resolved = resolve_location(location) if location is not None else None
    return given_intensity(intensity, location=resolved)


# -- the model -----------------------------------------------------------------------------------------------------


def _gmean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _loglog(x: float, x0: float, y0: float, x1: float, y1: float) -> float:
    """y at x on the straight line through (x0, y0) and (x1, y1) in log-log space."""
    t = (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0))
    return math.exp((1.0 - t) * math.log(y0) + t * math.log(y1))


@dataclass(frozen=True)
class _AtBatch:
    """One series (a model on some GPUs at one precision) at the requested batch: figure, range, rows used."""

    energy_j: float
    low_j: float
    high_j: float
    rows: tuple[InferenceMeasurement, ...]


def _series_at(rows: Sequence[InferenceMeasurement], batch: int | None) -> _AtBatch | None:
    """The series' figure at ``batch`` (log-log between measured batch limits; None outside them), its range from
    the neighbouring measured limits; with ``batch`` None, the median over its measured limits and their range."""
    by_batch: dict[int, list[InferenceMeasurement]] = defaultdict(list)
    for row in rows:
        by_batch[row.batch].append(row)
    batches = sorted(by_batch)
    value = {b: _gmean([r.energy_j for r in by_batch[b]]) for b in batches}
    if batch is None:
        used = [b for b in batches]
        central = statistics.median(value[b] for b in batches)
    elif batch < batches[0] or batch > batches[-1]:
        return None
    elif batch in value:
        k = batches.index(batch)
        used = batches[max(0, k - 1): k + 2]
        central = value[batch]
    else:
        k = next(i for i, b in enumerate(batches) if b > batch)
        used = [batches[k - 1], batches[k]]
        central = _loglog(batch, used[0], value[used[0]], used[1], value[used[1]])
    spread = [r.energy_j for b in used for r in by_batch[b]]
    return _AtBatch(central, min(spread), max(spread), tuple(r for b in used for r in by_batch[b]))


def _size_points(
    rows: Sequence[InferenceMeasurement], batch: int | None
) -> tuple[list[SizePoint], list[InferenceMeasurement]]:
    """Every measured model size at the operating point: the geometric mean of its series, their overall range."""
    series: dict[tuple[str, int, str], list[InferenceMeasurement]] = defaultdict(list)
    for row in rows:
        series[(row.model, row.num_gpus, row.precision)].append(row)
    by_size: dict[float, list[tuple[str, _AtBatch]]] = defaultdict(list)
    for (model, _gpus, _precision), members in series.items():
        at = _series_at(members, batch)
        if at is not None:
            by_size[members[0].active_params_b].append((model, at))
    points = [
        SizePoint(
            active_params_b=size,
            energy_j=_gmean([at.energy_j for _, at in found]),
            low_j=min(at.low_j for _, at in found),
            high_j=max(at.high_j for _, at in found),
            models=tuple(sorted({model for model, _ in found})),
        )
        for size, found in sorted(by_size.items())
    ]
    used = [r for found in by_size.values() for _, at in found for r in at.rows]
    return points, used


def _configuration(row: InferenceMeasurement, unit: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "model": row.model,
        "active_params_b": row.active_params_b,
        "total_params_b": row.total_params_b,
        "gpu": row.gpu,
        "num_gpus": row.num_gpus,
        "precision": row.precision,
        "batch": row.batch,
        "variant": row.variant,
        f"gpu_energy_per_{unit}_j": row.energy_j,
    }
    if row.steps is not None:
        item.update(height=row.height, width=row.width, steps=row.steps, frames=row.frames)
    item["upstream_file"] = row.upstream_file
    return item


def estimate_inference(
    params: float | None = None,
    *,
    tokens_out: float | None = None,
    tokens_in: int | None = None,
    images: float | None = None,
    videos: float | None = None,
    active_params: float | None = None,
    model: str | None = None,
    gpu: str = "H100 SXM",
    batch: int | None = None,
    precision: str | None = None,
    task: str | None = None,
    location: str | None = None,
    intensity: float | None = None,
    pue: float | None = None,
    host_overhead: float = 0.0,
) -> InferenceEstimate:
    """Energy and emissions per query of a model served on an H100 SXM or B200, from the ML.ENERGY Leaderboard.

    The model: ``params`` (its parameter count, 8e9 for 8B; ``active_params`` for a mixture of experts, whose
    figures come from the measured MoE models only) or ``model``, a name the leaderboard measured (``"FLUX.1-dev"``,
    ``"Llama-3.1-8B"``). One query: ``tokens_out`` output tokens (LLM tasks; ``tokens_in`` is recorded but not
    priced apart: the per-token figures include the prefill of the task's own prompts), or ``images``/``videos``.
    ``task``: ``chat`` (default for tokens), ``reasoning``, ``code``, ``image-chat``, ``video-chat``,
    ``text-to-image``, ``text-to-video`` (or the leaderboard's names). ``batch``: the server's batch limit (vLLM's
    ``max_num_seqs``; diffusion: images per batch); unknown by default, which widens the range to every measured
    limit. ``precision``: ``bfloat16``, ``fp8``, ``mxfp4`` (default: any measured). ``host_overhead``: host CPU and
    memory energy as a fraction of the GPU's (default 0: GPU only, as measured). ``location``, ``intensity`` and
    ``pue`` price the energy as ``wattprint.estimate`` does.
    """
    from wattprint.accounting.footprint import account
    from wattprint.data import inference_measurements

    task_key = _task(task, tokens_out, images, videos)
    family = _gpu(gpu)
    unit = DIFFUSION_TASKS.get(task_key, "token")
    count_given = {"tokens_out": tokens_out, "images": images, "videos": videos}
    wanted = {"token": "tokens_out", "image": "images", "video": "videos"}[unit]
    wrong = [k for k, v in count_given.items() if v is not None and k != wanted]
    if wrong:
        raise ConfigError(f"task {task_key!r} is priced per {unit}: give {_named(wanted)}, not "
                          f"{', '.join(_named(k) for k in wrong)} (or {setting('task')} that fits them)")
    if count_given[wanted] is None:
        raise ConfigError(f"give {_named(wanted)}: how many {unit}s one query produces")
    per_query = check_number(wanted, count_given[wanted], minimum=0.0, maximum=1e9)
    if tokens_in is not None:
        if unit != "token":
            raise ConfigError(f"{_named('tokens_in')} applies to LLM tasks, not {task_key!r}")
        tokens_in = _positive_int("tokens_in", tokens_in, 1e9)
    if batch is not None:
        batch = _positive_int("batch", batch, 1e6)
    overhead = check_number("host_overhead", host_overhead, minimum=0.0, maximum=10.0)
    if (params is None) == (model is None):
        raise ConfigError(f"give {_named('params')} (the model's parameter count, 8e9 for 8B) or {_named('model')} "
                          "(a model the leaderboard measured), one of them")
    if model is not None and active_params is not None:
        raise ConfigError(f"{_named('active_params')} goes with {_named('params')}; a named model has its own")

    rows = list(inference_measurements(task=task_key, gpu=family))
    if precision is not None:
        measured = sorted({r.precision for r in rows})
        if precision not in measured:
            raise ConfigError(f"precision {precision!r} was not measured for {task_key} on {family}; "
                              f"{setting('precision')} one of {', '.join(measured)}, or leave it out (any)")
        rows = [r for r in rows if r.precision == precision]
    how: list[str] = []
    notes: list[str] = []
    total = active = None
    law: PowerLaw | None = None
    if model is not None:
        rows, model = _named_model(rows, model, task_key, family)
        points, used = _size_points(rows, batch)
        if not points:
            batches = sorted({r.batch for r in rows})
            raise ConfigError(f"{model} was measured on {family} with batch limits {batches[0]} to {batches[-1]}, "
                              f"not {batch}: {setting('batch')} in that range, or leave it out")
        point = points[0]
        how.append(f"{model}'s own measurements ({len({(r.num_gpus, r.precision) for r in rows})} GPU count/"
                   "precision series), no interpolation between models")
    else:
        total = _params("params", params)
        active = total if active_params is None else _params("active_params", active_params)
        if active > total:
            raise ConfigError(f"active_params ({active:g}) cannot exceed params ({total:g})")
        if unit == "token":
            moe = active < total
            kind = "mixture-of-experts" if moe else "dense (incl. hybrid)"
            other = [r for r in rows if (r.architecture == "moe") != moe]
            rows = [r for r in rows if (r.architecture == "moe") == moe]
            if not rows:
                raise ConfigError(
                    f"no {kind} model was measured for {task_key} on {family}; measured: "
                    + ", ".join(sorted({f"{r.model} ({r.active_params_b:g}B active)" for r in other}))
                    + f"; {setting('model')} one of them"
                )
            how.append(f"{kind} models only: MoE models cost more per token than dense models of the same active "
                       "size, so the two are not mixed")
        size = active / 1e9
        points, used = _size_points(rows, batch)
        point, law, near = _at_size(points, size, task_key, family, batch, rows)
        if law is None:
            how.append(f"one measured size, {size:g}B active: {', '.join(point.models)}")
        else:
            how.append(
                f"energy per {unit} = {law.coefficient_j:.4g} J x (active params in billions)^{law.exponent:.3f}, a "
                f"log-log least-squares fit over the {law.points} measured sizes ({points[0].active_params_b:g}B to "
                f"{points[-1].active_params_b:g}B)"
            )
            how.append("range: the measured configurations of the nearest sizes ("
                       + "; ".join(f"{p.active_params_b:g}B: {', '.join(p.models)}" for p in near)
                       + "), as ratios to the fit at their own size, applied at the requested size")
        used = [r for r in used if r.active_params_b in {p.active_params_b for p in near}]
    if batch is None:
        how.append("batch limit unknown: each series' median over its measured limits, the range spanning all of them")
    else:
        how.append(f"at batch limit {batch} (log-log between measured limits), the range from the neighbouring "
                   "measured limits")
    if len({(r.model, r.num_gpus, r.precision) for r in used}) > 1:
        how.append("several models, GPU counts or precisions at one size: geometric mean of their figures, the range "
                   "spanning them all")

    gpu_j = point.energy_j * per_query
    gpu_low, gpu_high = point.low_j * per_query, point.high_j * per_query
    factor = 1.0 + overhead
    energy, low, high = gpu_j * factor, gpu_low * factor, gpu_high * factor
    uncertainty = (high - low) / math.sqrt(12.0) / energy if energy > 0 else 0.0
    scope = "GPU only (the leaderboard's scope)" if overhead == 0 else f"GPU + {overhead:.0%} host (as given)"
    if unit == "token":
        notes.append("the per-token figures include the prefill of the leaderboard's own prompts"
                     + (f"; tokens_in={tokens_in} is not priced apart" if tokens_in is not None else ""))
    else:
        shapes = sorted({(r.width, r.height, r.steps, r.frames) for r in used})
        notes.append(f"the measured {unit}s: " + ", ".join(
            f"{w}x{h}, {s} steps" + (f", {f} frames" if f else "") for w, h, s, f in shapes)
            + "; other sizes or step counts are not rescaled")
    if overhead == 0:
        notes.append("GPU energy only, as measured: host CPU, memory, networking and idle capacity are not included; "
                     f"{setting('host_overhead')} (a fraction of the GPU energy) to add them")
    notes.append(f"method {METHOD}: estimated from published measurements "
                 f"({docs('inference', 'services-you-do-not-run')})")

    footprint = account(energy / J_PER_KWH, uncertainty, _where(location, intensity), pue=pue)
    configurations = tuple(_configuration(r, unit) for r in sorted(
        used, key=lambda r: (r.active_params_b, r.model, r.num_gpus, r.precision, r.batch, r.variant)))
    return InferenceEstimate(
        task=task_key, unit=unit, units_per_query=per_query, tokens_in=tokens_in, params=total, active_params=active,
        model=model, gpu=family, batch=batch, precision=precision,
        energy_per_unit_j=point.energy_j, energy_per_unit_low_j=point.low_j, energy_per_unit_high_j=point.high_j,
        gpu_energy_j=gpu_j, gpu_energy_low_j=gpu_low, gpu_energy_high_j=gpu_high, host_overhead=overhead,
        energy_j=energy, energy_low_j=low, energy_high_j=high, energy_uncertainty_rel=uncertainty,
        footprint=footprint, size_points=tuple(points), configurations=configurations, how=tuple(how),
        notes=tuple(notes), fit=law, scope=scope,
    )


def _named_model(
    rows: list[InferenceMeasurement], query: str, task: str, family: str
) -> tuple[list[InferenceMeasurement], str]:
    if not isinstance(query, str) or not query.strip():
        raise ConfigError(f"model must be a model name such as 'Llama-3.1-8B', got {query!r}")
    names = sorted({r.model for r in rows})
    folded = query.strip().casefold()
    exact = [n for n in names if n.casefold() == folded or n.casefold().rpartition("/")[2] == folded]
    found = exact or [n for n in names if folded in n.casefold()]
    if len(found) == 1:
        return [r for r in rows if r.model == found[0]], found[0]
    listed = ", ".join(found or names)
    if found:
        raise ConfigError(f"model {query!r} matches several measured models ({listed}): {setting('model')} one")
    raise ConfigError(f"model {query!r} was not measured for {task} on {family}; measured: {listed}")


def point_neighbours(points: Sequence[SizePoint], size: float) -> list[SizePoint]:
    """The measured size points nearest ``size`` (billions of active parameters), whose spread sets the range: the
    size itself and the sizes either side when it was measured, else the two sizes around it."""
    below = [p for p in points if p.active_params_b < size and not math.isclose(p.active_params_b, size)]
    above = [p for p in points if p.active_params_b > size and not math.isclose(p.active_params_b, size)]
    exact = [p for p in points if math.isclose(p.active_params_b, size, rel_tol=1e-9)]
    return [*below[-1:], *exact, *above[:1]]


@dataclass(frozen=True)
class PowerLaw:
    """energy_j = coefficient_j x active_params_b ** exponent: the least-squares line through the size points in
    log-log space (each point weighted alike)."""

    coefficient_j: float
    exponent: float
    points: int

    def at(self, size_b: float) -> float:
        return self.coefficient_j * size_b**self.exponent


def fit_power_law(points: Sequence[SizePoint]) -> PowerLaw:
    """The log-log least-squares fit of the points' central figures against their active parameters (2+ sizes)."""
    xs = [math.log(p.active_params_b) for p in points]
    ys = [math.log(p.energy_j) for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    return PowerLaw(coefficient_j=math.exp(mean_y - slope * mean_x), exponent=slope, points=len(points))


def _at_size(
    points: Sequence[SizePoint], size: float, task: str, family: str, batch: int | None,
    rows: Sequence[InferenceMeasurement],
) -> tuple[SizePoint, PowerLaw | None, list[SizePoint]]:
    """The figure at ``size`` from the fit over all measured sizes, its range from the spread of the nearest sizes'
    configurations around the fit; a single measured size is used as it is."""
    at_batch = f" at batch limit {batch}" if batch is not None else ""
    if not points:
        measured = sorted({r.batch for r in rows})
        span = f" (measured: {measured[0]} to {measured[-1]})" if measured else ""
        raise ConfigError(f"no measured {task} configuration on {family}{at_batch}{span}: {setting('batch')} "
                          "another limit, or leave it out")
    lo, hi = points[0].active_params_b, points[-1].active_params_b
    if not (lo * (1 - 1e-9) <= size <= hi * (1 + 1e-9)):
        span = f"{lo:g}B to {hi:g}B" if hi > lo else f"only {lo:g}B"
        raise ConfigError(
            f"{size:g}B active parameters is outside the sizes measured for {task} on {family}{at_batch} ({span}): "
            f"the estimate does not extrapolate; give {_named('params')} in that range"
            + (f", another {_named('batch')}" if batch is not None else "")
        )
    near = point_neighbours(points, size)
    if len(points) == 1:
        return points[0], None, near
    law = fit_power_law(points)
    central = law.at(size)
    low = min(1.0, *(p.low_j / law.at(p.active_params_b) for p in near))
    high = max(1.0, *(p.high_j / law.at(p.active_params_b) for p in near))
    models = tuple(m for p in near for m in p.models)
    return SizePoint(active_params_b=size, energy_j=central, low_j=central * low, high_j=central * high,
                     models=models), law, near
