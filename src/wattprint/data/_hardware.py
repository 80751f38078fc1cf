"""CPU and GPU thermal design power, for model-based power estimates."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache

from ._io import opt_float, opt_int, read_table, read_text
from ._names import GpuName, cpu_model_tokens, normalize_cpu_name, normalize_gpu_name

__all__ = ["CpuSpec", "GpuSpec", "cpu_specs", "gpu_specs", "lookup_cpu", "lookup_gpu"]


@dataclass(frozen=True)
class CpuSpec:
    """A CPU model's TDP, from ``cpu_tdp.csv``."""

    name: str  # the table's display name
    tdp_w: float
    cores: int | None  # physical cores when a source gives them
    source: str  # dataset the figure came from ("codecarbon", "green-algorithms", ...)
    licence: str = ""
    key: str = ""  # the normalised name the table is indexed by
    alternatives: tuple[tuple[str, float], ...] = ()
    """(source, TDP in W) that other sources give for this model, when they disagree with ``tdp_w``."""


@dataclass(frozen=True)
class GpuSpec:
    """A GPU (or TPU) model's TDP and memory, from ``gpu_tdp.csv``.

    ``memory_gb`` is the matched row's: when the table has only a family row (one A100 SXM4 row,
    80 GB) it can differ from the device's, so read a device's memory from the device itself.
    """

    name: str
    tdp_w: float
    memory_gb: float | None
    source: str
    licence: str = ""
    key: str = ""
    kind: str = "gpu"  # "gpu" or "tpu"
    form: str | None = None  # "sxm", "pcie", "nvl" or None when the table does not say


# -- CPU ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CpuEntry:
    words: frozenset[str]  # tokens without digits ("xeon", "platinum")
    spec: CpuSpec


@cache
def _cpu_index() -> tuple[dict[str, CpuSpec], dict[frozenset[str], tuple[_CpuEntry, ...]]]:
    by_key: dict[str, CpuSpec] = {}
    by_models: dict[frozenset[str], list[_CpuEntry]] = defaultdict(list)
    for row in read_table("cpu_tdp.csv"):
        spec = _cpu_spec(row)
        by_key[spec.key] = spec
        models = cpu_model_tokens(spec.key)
        by_models[models].append(_CpuEntry(frozenset(spec.key.split()) - models, spec))
    return by_key, {m: tuple(sorted(e, key=lambda x: x.spec.key)) for m, e in by_models.items()}


def _cpu_candidates(models: frozenset[str]) -> tuple[_CpuEntry, ...]:
    """The rows with exactly these model tokens, found without parsing the whole table.

    A cold lookup runs when a tracker starts on a machine without counters, so it must take milliseconds:
    the rows are prefiltered by substring on their key before any of them is parsed.
    """
    if _cpu_index.cache_info().currsize:  # the full index is already built: use it
        return _cpu_index()[1].get(models, ())
    text = read_text("cpu_tdp.csv")
    longest = max(models, key=len)
    hits = []
    found = text.find(longest)
    while found >= 0:
        start = text.rfind("\n", 0, found) + 1
        end = text.find("\n", found)
        end = len(text) if end < 0 else end
        if text.find(",", start, end) > found:  # the token is in the key, the first column
            hits.append(text[start:end])
        found = text.find(longest, end)
    header = next(csv.reader([text[: text.index("\n")]]))
    entries = []
    for row in csv.DictReader(hits, fieldnames=header):
        if cpu_model_tokens(row["key"]) != models:
            continue
        spec = _cpu_spec(row)
        entries.append(_CpuEntry(frozenset(spec.key.split()) - models, spec))
    return tuple(sorted(entries, key=lambda e: e.spec.key))


_OTHER_SOURCE = re.compile(r"(?P<source>[A-Z][A-Za-z0-9 .&-]*?) gives (?P<watts>\d+(?:\.\d+)?) W")
"""How the build notes a TDP that another source gives (``Green Algorithms gives 95 W``)."""
_STATED_WATTS = re.compile(r"\(\s*(?P<watts>\d+(?:\.\d+)?)\s*W\s*\)", re.IGNORECASE)
"""A TDP stated in a CPU's own name, as CodeCarbon's table names variants: ``AMD Phenom II X4 955 (95W)``."""


def _cpu_spec(row: dict[str, str]) -> CpuSpec:
    note = row.get("note") or ""
    return CpuSpec(
        name=row["name"],
        tdp_w=float(row["tdp_w"]),
        cores=opt_int(row["cores"]),
        source=row["source"],
        licence=row["licence"],
        key=row["key"],
        alternatives=tuple((m["source"], float(m["watts"])) for m in _OTHER_SOURCE.finditer(note)),
    )


def cpu_specs() -> tuple[CpuSpec, ...]:
    """Every row of the CPU TDP table, sorted by key."""
    return tuple(sorted(_cpu_index()[0].values(), key=lambda s: s.key))


@lru_cache(maxsize=512)
def lookup_cpu(model_name: str) -> CpuSpec | None:
    """Best match of a CPU name in the CPU TDP table (see :func:`_lookup_table`), or None.

    A TDP stated in the name itself (``AMD Phenom II X4 955 (95W)``, as CodeCarbon names variants that differ
    only in TDP) wins over the table: the result carries that TDP, the matched row's cores, and the row's TDP as
    an alternative when it differs.
    """
    if not isinstance(model_name, str):
        return None
    stated = _STATED_WATTS.search(model_name)
    if stated is None or not 1.0 <= float(stated["watts"]) <= 1000.0:
        return _lookup_table(model_name)
    watts = float(stated["watts"])
    row = _lookup_table(model_name[: stated.start()] + model_name[stated.end():])
    alternatives = ((row.source, row.tdp_w),) if row is not None and row.tdp_w != watts else ()
    return CpuSpec(
        name=" ".join(model_name.split()),
        tdp_w=watts,
        cores=row.cores if row is not None else None,
        source="stated in the CPU's name",
        key=normalize_cpu_name(model_name),
        alternatives=alternatives + (row.alternatives if row is not None else ()),
    )


def _lookup_table(model_name: str) -> CpuSpec | None:
    """Best match of a ``/proc/cpuinfo`` "model name" string in the CPU TDP table, or None.

    The name is normalised (``normalize_cpu_name``: no "(R)", "(TM)", "CPU", "@ 2.50GHz",
    "Processor", "64-Core", vendor). An identical normalised name wins. Otherwise a row
    matches only if it has exactly the same model tokens (the tokens with a digit, whole:
    ``8259CL`` never matches ``8259``; ``E5-2670`` never matches ``E5-2670 v2``), shares a
    family word with the query (``xeon``, ``epyc``, ``ryzen``, ...) and one word set contains
    the other. A name without any model number (``'AMD EPYC'``, ``'Intel(R) Xeon(R) CPU @
    2.20GHz'``, a virtual CPU) gives None, as do ties between rows with different TDPs.
    """
    if not model_name or not model_name.strip():
        return None
    key = normalize_cpu_name(model_name)
    models = cpu_model_tokens(key)
    if not models:
        return None
    candidates = _cpu_candidates(models)
    for entry in candidates:
        if entry.spec.key == key:
            return entry.spec
    words = frozenset(key.split()) - models
    if not words:
        return None
    best: list[CpuSpec] = []
    best_score: tuple[int, int] | None = None
    for entry in candidates:
        shared = entry.words & words
        if not shared or not (entry.words <= words or words <= entry.words):
            continue
        score = (len(shared), -len(entry.words ^ words))
        if best_score is None or score > best_score:
            best, best_score = [entry.spec], score
        elif score == best_score:
            best.append(entry.spec)
    if not best or len({s.tdp_w for s in best}) > 1:
        return None
    return best[0]


# -- GPU ----------------------------------------------------------------------------------


@cache
def _gpu_index() -> dict[tuple[str, ...], tuple[tuple[GpuName, GpuSpec], ...]]:
    index: dict[tuple[str, ...], list[tuple[GpuName, GpuSpec]]] = defaultdict(list)
    for row in read_table("gpu_tdp.csv"):
        parsed = normalize_gpu_name(row["name"])
        spec = GpuSpec(
            name=row["name"],
            tdp_w=float(row["tdp_w"]),
            memory_gb=opt_float(row["memory_gb"]),
            source=row["source"],
            licence=row["licence"],
            key=row["key"],
            kind=row["kind"],
            form=row["form"] or None,
        )
        index[parsed.base].append((parsed, spec))
    return {base: tuple(sorted(v, key=lambda t: t[1].key)) for base, v in index.items()}


def gpu_specs() -> tuple[GpuSpec, ...]:
    """Every row of the GPU/TPU TDP table, sorted by key."""
    return tuple(sorted((spec for rows in _gpu_index().values() for _, spec in rows), key=lambda s: s.key))


def _one_tdp(pool: list[GpuSpec]) -> GpuSpec | None:
    return pool[0] if pool and len({s.tdp_w for s in pool}) == 1 else None


@lru_cache(maxsize=256)
def lookup_gpu(name: str) -> GpuSpec | None:
    """Best match of a GPU name (as NVML reports it) in the GPU TDP table, or None.

    The model words must match exactly (``A10`` is not ``A10G``, ``V100`` is not ``V100S``).
    Among a model's rows, the form factor (SXM, PCIe, NVL) and then the memory size pick the
    variant when the table distinguishes them; otherwise the model's single (family) row is
    used. Variants with different TDPs that the name cannot tell apart give None rather than a
    guess (e.g. ``'NVIDIA H100 PCIe'`` when the table has only SXM and NVL rows).
    """
    if not name or not name.strip():
        return None
    query = normalize_gpu_name(name)
    if not query.base:
        return None
    candidates = [(parsed, spec) for parsed, spec in _gpu_index().get(query.base, ())]
    if not candidates:
        return None
    if query.form:
        pool = [c for c in candidates if c[1].form == query.form]
        if not pool:
            pool = [c for c in candidates if c[1].form is None] or candidates
    else:
        pool = [c for c in candidates if c[1].form is None] or candidates
    if query.memory_gb is not None:
        same_memory = [c for c in pool if c[1].memory_gb == query.memory_gb]
        if same_memory:
            pool = same_memory
    return _one_tdp([spec for _, spec in pool])
