"""A run's requests summed per time bucket and endpoint: what the store keeps of them (``RequestIntervalRecord``).

A row per request would not scale (a day at 1,000 requests/s is 86 million rows); a row per (bucket, endpoint)
does: counts, sums of tokens, items, energies and times, and latency and energy histograms over fixed log-spaced
bins, so that rows of any buckets merge by adding. Percentiles read from a histogram are known to the bin:
``HALF_BIN_REL`` (about ±12%) either side of the value reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.api.records import RequestIntervalRecord
    from wattprint.run.requests import RequestEnergy
    from wattprint.run.steady import SteadyWindow

MethodOf = Callable[[list[float]], tuple[str, float]]

BINS_PER_DECADE = 10
MIN_BIN = -12 * BINS_PER_DECADE
MAX_BIN = 12 * BINS_PER_DECADE
"""Histogram bins: ``i`` counts values in ``[10**(i/10), 10**((i+1)/10))``; values at or below 1e-12 (and 0) go in
``MIN_BIN``, values above 1e12 in ``MAX_BIN``."""
HALF_BIN_REL = 10 ** (0.5 / BINS_PER_DECADE) - 1
"""How far a percentile read from a histogram (the bin's geometric middle) may be from the true value, relative."""

BUCKET_SCHEDULE_S = ((3600.0, 10.0), (86400.0, 60.0), (math.inf, 600.0))
"""(run age up to which, bucket width): the same widths as the run's energy intervals."""


def hist_bin(value: float) -> int:
    """The histogram bin of a positive value (seconds or joules)."""
    if not value > 1e-12:
        return MIN_BIN
    if not math.isfinite(value):
        return MAX_BIN
    return max(MIN_BIN, min(MAX_BIN, math.floor(math.log10(value) * BINS_PER_DECADE)))


def bin_value(index: int) -> float:
    """The value a bin stands for: its geometric middle."""
    return float(10 ** ((index + 0.5) / BINS_PER_DECADE))


def hist_percentile(hist: Iterable[tuple[int, int]], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of the values a histogram counts, to the bin (None when it is empty)."""
    counts = sorted((b, c) for b, c in hist if c > 0)
    total = sum(c for _, c in counts)
    if total == 0:
        return None
    rank = (total - 1) * q / 100  # the zero-based rank, as percentile() interpolates between closest ranks
    seen = 0
    for index, count in counts:
        seen += count
        if seen > rank:
            return bin_value(index)
    return bin_value(counts[-1][0])


def bucket_of(offset_s: float) -> int:
    """The bucket holding ``offset_s`` seconds from the run's start."""
    first = 0
    start = 0.0
    for age, width in BUCKET_SCHEDULE_S:
        if offset_s < age:
            return first + int(max(0.0, offset_s - start) // width)
        first += int((age - start) // width)
        start = age
    raise AssertionError("the last bucket width applies to any age")


def bucket_span(bucket: int) -> tuple[float, float]:
    """Seconds from the run's start to a bucket's start and end."""
    first = 0
    start = 0.0
    for age, width in BUCKET_SCHEDULE_S:
        count = (age - start) // width if math.isfinite(age) else math.inf
        if bucket < first + count:
            begin = start + (bucket - first) * width
            return begin, begin + width
        first += int(count)
        start = age
    raise AssertionError("the last bucket width applies to any bucket")


class _Sum:
    """The running sums of one row."""

    __slots__ = ("requests", "energy_j", "absolute_j", "methods", "bases", "latency_s", "tokens_in", "tokens_out",
                 "tokens_out_energy_j", "items", "items_energy_j", "prefill_tokens", "prefill_energy_j",
                 "decode_tokens", "decode_energy_j", "first_token_requests", "ttft_s", "idle_slots", "idle_s",
                 "latency_hist", "energy_hist")

    def __init__(self) -> None:
        self.requests = 0
        self.energy_j = self.absolute_j = self.latency_s = 0.0
        self.methods: set[str] = set()
        self.bases: set[str] = set()
        self.tokens_in: int | None = None
        self.tokens_out: int | None = None
        self.items: int | None = None
        self.tokens_out_energy_j = self.items_energy_j = 0.0
        self.prefill_tokens = self.decode_tokens = self.first_token_requests = 0
        self.prefill_energy_j: float | None = None
        self.decode_energy_j: float | None = None
        self.ttft_s = self.idle_s = 0.0
        self.idle_slots: list[float] = []
        """Idle energy per meter slot (its method and uncertainty are worked out when a record is made)."""
        self.latency_hist: dict[int, int] = {}
        self.energy_hist: dict[int, int] = {}

    def add(self, r: RequestEnergy) -> None:
        self.requests += 1
        self.energy_j += r.energy_j
        self.absolute_j += r.energy_j * r.uncertainty_rel
        if r.energy_j > 0 or not self.methods:
            self.methods.add(r.method)
        self.bases.add(r.sharing)
        self.latency_s += r.duration_s
        if r.tokens_in is not None:
            self.tokens_in = (self.tokens_in or 0) + r.tokens_in
        if r.tokens_out is not None:
            self.tokens_out = (self.tokens_out or 0) + r.tokens_out
            self.tokens_out_energy_j += r.energy_j
        if r.items is not None:
            self.items = (self.items or 0) + r.items
            self.items_energy_j += r.energy_j
        if r.prefill_energy_j is not None:
            if r.tokens_in is not None:
                self.prefill_tokens += r.tokens_in
                self.prefill_energy_j = (self.prefill_energy_j or 0.0) + r.prefill_energy_j
            if r.tokens_out is not None:
                self.decode_tokens += r.tokens_out
                self.decode_energy_j = (self.decode_energy_j or 0.0) + (r.decode_energy_j or 0.0)
        if r.time_to_first_token_s is not None:
            self.first_token_requests += 1
            self.ttft_s += r.time_to_first_token_s
        lat, energy = hist_bin(r.duration_s), hist_bin(r.energy_j)
        self.latency_hist[lat] = self.latency_hist.get(lat, 0) + 1
        self.energy_hist[energy] = self.energy_hist.get(energy, 0) + 1

    def idle(self, deltas: tuple[float, ...], seconds: float) -> None:
        slots = self.idle_slots
        if len(slots) < len(deltas):
            slots.extend([0.0] * (len(deltas) - len(slots)))
        for i, value in enumerate(deltas):
            slots[i] += value
        self.idle_s += seconds

    def record(self, bucket: int, endpoint: str, start_s: float, end_s: float, concurrency: int | None = None,
               method_of: MethodOf | None = None) -> RequestIntervalRecord:
        from wattprint.api.records import RequestIntervalRecord
        from wattprint.core.methods import weakest_method

        idle_j = sum(self.idle_slots)
        if self.requests:
            method = weakest_method(self.methods)
            uncertainty = self.absolute_j / self.energy_j if self.energy_j > 0 else 0.0
        elif method_of is not None:  # a bucket with idle time only: the method and uncertainty of its idle energy
            method, uncertainty = method_of(self.idle_slots)
        else:
            method, uncertainty = "model", 0.0
        bases = self.bases
        return RequestIntervalRecord(
            bucket=bucket, endpoint=endpoint, start_offset_s=start_s, end_offset_s=end_s, requests=self.requests,
            energy_j=self.energy_j, method=method, uncertainty_rel=uncertainty,
            sharing=next(iter(bases)) if len(bases) == 1 else ("mixed" if bases else "time"),
            latency_s=self.latency_s, tokens_in=self.tokens_in, tokens_out=self.tokens_out,
            tokens_out_energy_j=self.tokens_out_energy_j, items=self.items, items_energy_j=self.items_energy_j,
            prefill_tokens=self.prefill_tokens, prefill_energy_j=self.prefill_energy_j,
            decode_tokens=self.decode_tokens, decode_energy_j=self.decode_energy_j,
            first_token_requests=self.first_token_requests, time_to_first_token_s=self.ttft_s,
            idle_energy_j=idle_j, idle_s=self.idle_s,
            latency_hist=tuple(sorted(self.latency_hist.items())), energy_hist=tuple(sorted(self.energy_hist.items())),
            concurrency=concurrency,
        )


class RequestBuckets:
    """The rows of one run, kept in memory (a day of a busy server: a few thousand rows per endpoint) and handed
    to the store as they change. A request counts in the bucket where it ended; idle time where it ended."""

    def __init__(self) -> None:
        self._rows: dict[tuple[int, str], _Sum] = {}
        self._dirty: set[tuple[int, str]] = set()
        self._steady: list[RequestIntervalRecord] = []
        self._steady_dirty = False
        self._bucket = (-1, 0.0, -1.0)
        """The bucket last used, with its span: requests mostly end in the bucket of the one before."""

    def _row(self, end_s: float, endpoint: str) -> _Sum:
        index, begin, end = self._bucket
        if not begin <= end_s < end:
            index = bucket_of(end_s)
            self._bucket = (index, *bucket_span(index))
        key = (index, endpoint)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = _Sum()
        self._dirty.add(key)
        return row

    def add(self, request: RequestEnergy) -> None:
        self._row(request.end_s, request.endpoint or "").add(request)

    def idle(self, end_s: float, deltas: tuple[float, ...], seconds: float) -> None:
        """Idle energy per meter slot, over ``seconds`` ending ``end_s`` from the run's start."""
        self._row(end_s, "").idle(deltas, seconds)

    def steady(self, requests: Iterable[RequestEnergy], window: SteadyWindow) -> None:
        """The rows of the steady-state window (``STEADY_BUCKET``): the requests lying inside it, per endpoint."""
        from wattprint.api.records import STEADY_BUCKET

        sums: dict[str, _Sum] = {}
        for request in requests:
            if window.holds(request.start_s, request.end_s):
                sums.setdefault(request.endpoint or "", _Sum()).add(request)
        self._steady = [s.record(STEADY_BUCKET, name, window.start_s, window.end_s, window.concurrency)
                        for name, s in sorted(sums.items())]
        self._steady_dirty = True

    def records(self, *, changed_only: bool, method_of: MethodOf | None = None) -> list[RequestIntervalRecord]:
        """The rows changed since the last call with ``changed_only`` (all of them without), steady rows last;
        ``method_of`` gives the method and uncertainty of idle energy per meter slot."""
        keys = sorted(self._dirty) if changed_only else sorted(self._rows)
        rows = [self._rows[key].record(key[0], key[1], *bucket_span(key[0]), method_of=method_of) for key in keys]
        if self._steady_dirty or not changed_only:
            rows += self._steady
        if changed_only:
            self._dirty.clear()
            self._steady_dirty = False
        return rows


def merge(records: Iterable[RequestIntervalRecord]) -> RequestIntervalRecord | None:
    """Rows added up into one (spanning them all); None without rows."""
    from dataclasses import replace

    from wattprint.core.methods import weakest_method

    rows = list(records)
    if not rows:
        return None
    with_requests = [r for r in rows if r.requests]
    energy = sum(r.energy_j for r in rows)
    bases = {r.sharing for r in with_requests}
    methods = [r.method for r in with_requests if r.energy_j > 0] or [r.method for r in with_requests]

    def total(name: str) -> int | None:
        values = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        return sum(values) if values else None

    def total_j(name: str) -> float | None:
        values = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        return sum(values) if values else None

    def hist(name: str) -> tuple[tuple[int, int], ...]:
        counts: dict[int, int] = {}
        for r in rows:
            for index, count in getattr(r, name):
                counts[index] = counts.get(index, 0) + count
        return tuple(sorted(counts.items()))

    first = rows[0]
    return replace(
        first, start_offset_s=min(r.start_offset_s for r in rows), end_offset_s=max(r.end_offset_s for r in rows),
        requests=sum(r.requests for r in rows), energy_j=energy,
        method=weakest_method(methods) if methods else first.method,
        uncertainty_rel=sum(r.energy_j * r.uncertainty_rel for r in with_requests) / energy if energy > 0 else 0.0,
        sharing=bases.pop() if len(bases) == 1 else ("mixed" if bases else "time"),
        latency_s=sum(r.latency_s for r in rows), tokens_in=total("tokens_in"), tokens_out=total("tokens_out"),
        tokens_out_energy_j=sum(r.tokens_out_energy_j for r in rows), items=total("items"),
        items_energy_j=sum(r.items_energy_j for r in rows), prefill_tokens=sum(r.prefill_tokens for r in rows),
        prefill_energy_j=total_j("prefill_energy_j"), decode_tokens=sum(r.decode_tokens for r in rows),
        decode_energy_j=total_j("decode_energy_j"), first_token_requests=sum(r.first_token_requests for r in rows),
        time_to_first_token_s=sum(r.time_to_first_token_s for r in rows),
        idle_energy_j=sum(r.idle_energy_j for r in rows), idle_s=sum(r.idle_s for r in rows),
        latency_hist=hist("latency_hist"), energy_hist=hist("energy_hist"),
    )


def by_endpoint(records: Iterable[RequestIntervalRecord]) -> Mapping[str, RequestIntervalRecord]:
    """Rows merged per endpoint (``""``: requests without one)."""
    groups: dict[str, list[RequestIntervalRecord]] = {}
    for r in records:
        groups.setdefault(r.endpoint, []).append(r)
    return {name: merged for name, rows in sorted(groups.items()) if (merged := merge(rows)) is not None}
