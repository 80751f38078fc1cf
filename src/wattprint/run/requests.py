"""Requests served inside a run: ``with run.request(tokens_in=n) as req: ...; req.tokens_out = m``.

An edge (a request's start, first token or end) records only a time on the meter's clock, so a request window
costs a few microseconds. The ledger reads the meter at most once per ``interval_s`` (at an edge that finds the
last reading older than that, when figures are asked for, and at the run's stop), and takes each device's
cumulative energy as linear in time between two readings: an edge's energy is interpolated, and the pieces of a
reading interval still add up to what was measured in it. Between two edges the set of active requests is fixed,
and that interval's energy is shared among them: by work (tokens, or items) processed where every active request
states it, otherwise equally (by time). Intervals with no active request are idle, so requests plus idle add up
to the run's energy. ``exact=True`` (or ``request_edges(run, "meter")``) reads the meter at a request's edges
instead, at the cost of a reading per edge.

An interval is shared once every request active in it has ended (its token count is only known then), so a
request's energy is settled when the last request overlapping it ends and a reading after that has been taken;
only those intervals are held.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from time import monotonic

from wattprint.core.errors import ConfigError, TrackerStateError, check_name
from wattprint.core.methods import weakest_method

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from wattprint.api.records import RequestIntervalRecord, RequestRecord
    from wattprint.core.results import RunResult
    from wattprint.measure.meter import Meter, Snapshot
    from wattprint.run.base import TrackerBase

TOKENS = "tokens"
ITEMS = "items"
TIME = "time"
MIXED = "mixed"
MAX_KEPT_REQUESTS = 100_000
"""Settled requests a run keeps for its figures (the latest ones); older ones are counted, with their energy."""

SHARING = (TOKENS, ITEMS, TIME, MIXED)
"""How a request's share of the intervals it was active in was decided (``mixed``: differently in different
intervals, e.g. while a request of unknown size overlapped it)."""

INTERPOLATED = "interpolated"
METER = "meter"
EDGES = (INTERPOLATED, METER)
"""How a request's edges were placed in the measured energy: ``interpolated`` (a time, the energy taken as linear
between the meter's readings) or ``meter`` (a meter reading at each edge)."""

INTERPOLATION_SPREAD_REL = 0.25
"""How far the power within one reading interval is taken to stray from the interval's average (relative), for
the uncertainty of interpolated edges; where successive readings differ by more, that difference is used."""

_OPEN, _FIRST, _CLOSE, _SNAP = 0, 1, 2, 3


@dataclass(frozen=True)
class RequestEnergy:
    """One settled request: its share of the measured energy, what it processed, and how the share was made.

    ``prefill_energy_j``/``decode_energy_j`` are set when the request marked its first token
    (``req.first_token()``): the energy before and after it. Times are seconds; ``started_at`` is Unix time.
    """

    request_id: str
    started_at: float
    start_s: float
    """Seconds from the run's start to the request's start."""
    duration_s: float
    energy_j: float
    method: str
    uncertainty_rel: float
    sharing: str
    endpoint: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    items: int | None = None
    time_to_first_token_s: float | None = None
    prefill_energy_j: float | None = None
    decode_energy_j: float | None = None
    edges: str = INTERPOLATED
    """``interpolated`` or ``meter`` (see ``EDGES``)."""
    interpolation_uncertainty_rel: float = 0.0
    """The part of ``uncertainty_rel`` that interpolating the edges adds (power varying within a reading
    interval; 0 for ``meter`` edges). ``uncertainty_rel`` combines it with the sensors' in quadrature."""

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def to_record(self, run_id: str, emissions_g: float | None = None) -> RequestRecord:
        """The wire format's record of this request."""
        from wattprint.api.records import RequestRecord

        return RequestRecord(
            request_id=self.request_id, run_id=run_id, started_at=self.started_at, duration_s=self.duration_s,
            energy_j=self.energy_j, method=self.method, uncertainty_rel=self.uncertainty_rel,
            endpoint=self.endpoint, tokens_in=self.tokens_in, tokens_out=self.tokens_out, items=self.items,
            emissions_g=emissions_g, time_to_first_token_s=self.time_to_first_token_s,
            prefill_energy_j=self.prefill_energy_j, decode_energy_j=self.decode_energy_j, sharing=self.sharing,
        )


@dataclass(frozen=True)
class RequestLog:
    """The requests of a run settled so far and the idle energy between them, up to the last edge read.

    ``requests_energy_j + dropped_energy_j + idle_energy_j + unsettled_energy_j == measured_energy_j`` (the
    run's energy up to ``measured_s``; the whole run's once it has stopped and every request has ended).
    ``requests`` are the latest ``MAX_KEPT_REQUESTS``; older ones are only counted in ``dropped_requests``.
    """

    run_id: str
    requests: tuple[RequestEnergy, ...]
    idle_energy_j: float
    idle_s: float
    measured_energy_j: float
    measured_s: float
    unsettled_energy_j: float
    """Energy of intervals whose requests have not all ended yet (0 once the run has stopped)."""
    dropped_requests: int
    dropped_energy_j: float
    open_requests: int
    final: bool
    """True once the run has stopped: nothing more will be added."""

    @property
    def requests_energy_j(self) -> float:
        return sum(r.energy_j for r in self.requests)


def _check_count(argument: str, value: object) -> int | None:
    if value is None or (type(value) is int and value >= 0):  # the common case, checked first
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{argument} must be a whole number of {argument.split('_')[0]} (or None), got "
                          f"{type(value).__name__} {value!r}")
    if value < 0:
        raise ConfigError(f"{argument} must be 0 or more, got {value}")
    return value


class _Span:
    """A request's edges, sizes and its energy per meter slot (total, and before its first token).

    ``closed``/``marked``/``index`` are set at the edges (under the ledger's lock); the times, the energy and
    the rest by the ledger as it processes the edges."""

    __slots__ = ("index", "endpoint", "tokens_in", "tokens_out", "items", "exact", "closed", "marked", "start_t",
                 "start_wall", "first_t", "end_t", "energy", "prefill", "pending", "bases", "result", "seg",
                 "seg_frac", "seg_pre", "seg_dt", "interp_j", "only")

    # set when the ledger processes the request's start:
    start_t: float
    start_wall: float
    energy: list[float]
    prefill: list[float]
    pending: int
    bases: set[str]
    seg: _Reading | None
    """The reading interval the request last received energy from; ``seg_frac`` (``seg_pre`` before its first
    token) is the part of that interval's energy it received, ``seg_dt`` the time it was active in it."""
    seg_frac: float
    seg_pre: float
    seg_dt: float
    interp_j: float
    """What interpolating its edges cannot know of its energy, in joules (combined into its uncertainty)."""
    only: _Reading | bool | None
    """The one reading interval it received energy from (False: several), whose method it then shares."""

    def __init__(self, endpoint: str | None, tokens_in: int | None, tokens_out: int | None,
                 items: int | None, exact: bool = False) -> None:
        self.index = 0
        self.endpoint = endpoint
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out
        self.items = items
        self.exact = exact
        self.closed = False
        self.marked = False
        self.first_t: float | None = None
        self.end_t: float | None = None
        self.result: RequestEnergy | None = None

    def work(self, t0: float, t1: float) -> tuple[str, float] | None:
        """The unit and amount of work done in [t0, t1] at the request's average rate (None: not stated)."""
        assert self.end_t is not None
        if self.first_t is not None and (self.tokens_in is not None or self.tokens_out is not None):
            if t1 <= self.first_t:
                return _rate(TOKENS, self.tokens_in, self.first_t - self.start_t, t1 - t0)
            return _rate(TOKENS, self.tokens_out, self.end_t - self.first_t, t1 - t0)
        if self.tokens_in is not None or self.tokens_out is not None:
            return _rate(TOKENS, (self.tokens_in or 0) + (self.tokens_out or 0), self.end_t - self.start_t, t1 - t0)
        return _rate(ITEMS, self.items, self.end_t - self.start_t, t1 - t0)

    def flush_segment(self) -> None:
        """Add the energy received in the last reading interval, per meter slot, and what interpolation could not
        know of it: the interval's power spread times that energy, scaled by the part of the interval the
        request did not cover (none when its edges were readings)."""
        seg = self.seg
        if seg is None:
            return
        width, spread, deltas, total, _ = seg
        self.only = seg if self.only is None else False
        _add(self.energy, deltas, self.seg_frac)
        if self.seg_pre:
            _add(self.prefill, deltas, self.seg_pre)
        if width > 0:
            self.interp_j += total * self.seg_frac * spread * max(0.0, 1.0 - self.seg_dt / width)
        self.seg = None


_Reading = tuple[float, float, tuple[float, ...], float, list[tuple[str, float]]]
"""A reading interval: its width (s), the spread of power taken within it, its energy per slot, and in all, and
(once worked out) its energy's method and uncertainty, which any part of it shares."""


def _rate(unit: str, amount: int | None, phase_s: float, dt: float) -> tuple[str, float] | None:
    if amount is None:
        return None
    return unit, (amount * dt / phase_s if phase_s > 0 else 0.0)


def _add(into: list[float], values: tuple[float, ...] | list[float], share: float) -> None:
    if len(into) < len(values):
        into.extend([0.0] * (len(values) - len(into)))
    for i, value in enumerate(values):
        into[i] += value * share


def _lock_tracker(tracker: TrackerBase) -> bool:
    """Take the tracker's lock (before the ledger's: the order its stop takes them in). A thread other than the
    main one gives up once the tracker is being stopped at a signal or has stopped (False)."""
    lock = tracker._lock
    if threading.current_thread() is threading.main_thread():
        lock.acquire()
        return True
    sub = tracker._sub
    while not lock.acquire(timeout=0.05):
        if sub is None or sub.closing or tracker._sub is not sub:
            return False
    return True


class RequestLedger:
    """The edges of one run's requests, the intervals between them, and the shares settled so far.

    Two locks: ``lock`` orders the edges and the meter's readings in time (held for an append, or a reading);
    the settling lock guards the processing of them (intervals, shares), so edges never wait for settling.
    """

    def __init__(self, run_id: str, start: Snapshot, *, interval_s: float = 1.0, exact: bool = False) -> None:
        from wattprint.run.request_buckets import RequestBuckets

        self.run_id = run_id
        self.interval_s = interval_s
        """The meter is read at an edge once the last reading is this old (the tracker's ``interval_s``)."""
        self.exact = exact
        """Every request's edges read the meter (``request_edges(run, "meter")``)."""
        self.buckets = RequestBuckets()
        """The settled requests and idle time summed per time bucket and endpoint: what the store keeps."""
        self.lock = threading.Lock()
        self._settling = threading.Lock()
        self._entries: list[tuple[float, int, object]] = []
        """Edges ``(t, op, span)`` and readings ``(t, _SNAP, snapshot)`` in time order, not yet processed."""
        self._snap_t = start.t_monotonic
        self._count = 0
        self.final = False
        """The run's final reading has been recorded: later edges add nothing."""
        # -- the processed state (under the settling lock) --
        self._start = start
        self._last = start
        self._held: list[tuple[float, int, _Span]] = []
        """Edges after the last processed reading, waiting for the next one to place their energy."""
        self._power_w: float | None = None
        self._active: dict[int, _Span] = {}
        self._pending: deque[tuple[float, float, tuple[_Span, ...], _Reading, float]] = deque()
        """Intervals ``(t0, t1, active requests, reading interval, part of its energy)`` not yet shared."""
        self._idle: list[float] = []
        self._idle_s = 0.0
        self._settled: deque[RequestEnergy] = deque()
        self._dropped = 0
        self._dropped_j = 0.0
        self._finished = False
        self._idle_parts: dict[float, list[float]] = {}
        """Idle (part of the reading interval's energy, seconds) per stored bucket, while a reading is placed."""
        self._bucket_bounds: tuple[float, float] = (0.0, -1.0)
        self._slot_info: tuple[object, int, list[tuple[str, float, str]]] | None = None
        self._job: tuple[Meter, int] | None = None
        self.tracker: Callable[[], TrackerBase | None] = _nothing
        """The tracker whose run this is (a weak reference, set by ``attach``)."""

    def attach(self, tracker: TrackerBase) -> None:
        """Settle in the meter's thread once per ``interval_s`` (reading the meter when due), not at the edges."""
        ref = self.tracker = weakref.ref(tracker)
        sub = tracker._sub
        if sub is None or sub.stale:
            return

        def settle() -> float | None:
            found = ref()
            if found is None or self.final or found.run_id != self.run_id or found._sub is None:
                return None
            self.refresh(found)
            return self.interval_s

        self._job = (sub.meter, sub.meter.add_job(settle, name="settle-requests"))

    # -- edges -------------------------------------------------------------------------------------------------

    def record_one(self, op: int, span: _Span) -> bool:
        """``record`` for one request: the path every request window takes."""
        with self.lock:
            if self.final:
                if op == _OPEN:
                    raise TrackerStateError("the tracker is not running")
                return False
            t = monotonic()
            if op == _OPEN:
                self._count += 1
                span.index = self._count
            self._entries.append((t, op, span))
            return t - self._snap_t >= self.interval_s

    def record(self, op: int, spans: tuple[_Span, ...]) -> bool:
        """Record an edge of ``spans`` now (a time only); True when a meter reading is due. Nothing after the
        run's final reading (an ``_OPEN`` then is refused)."""
        with self.lock:
            if self.final:
                if op == _OPEN:
                    raise TrackerStateError("the tracker is not running")
                return False
            t = monotonic()
            if op == _OPEN:
                for span in spans:
                    self._count += 1
                    span.index = self._count
            entries = self._entries
            for span in spans:
                entries.append((t, op, span))
            return t - self._snap_t >= self.interval_s

    def record_exact(self, tracker: TrackerBase, op: int, spans: tuple[_Span, ...]) -> None:
        """Record an edge of ``spans`` at a meter reading taken now (``exact``)."""
        if not _lock_tracker(tracker):
            return
        try:
            with self.lock:
                if self.final or tracker.run_id != self.run_id:
                    if op == _OPEN:
                        raise TrackerStateError("the tracker is not running")
                    return
                snap = tracker._edge()
                t = snap.t_monotonic
                if op == _OPEN:
                    for span in spans:
                        self._count += 1
                        span.index = self._count
                self._entries.append((t, _SNAP, snap))
                self._snap_t = t
                for span in spans:
                    self._entries.append((t, op, span))
        finally:
            tracker._lock.release()

    def refresh(self, tracker: TrackerBase, *, force: bool = False, settle: bool = True) -> None:
        """Read the meter when a reading is due (or ``force``) and (``settle``) settle what the readings make
        known. Trouble reading is logged and left for later (the run's final reading settles everything)."""
        if _lock_tracker(tracker):
            try:
                with self.lock:
                    if (not self.final and tracker._sub is not None and tracker.run_id == self.run_id
                            and (force or monotonic() - self._snap_t >= self.interval_s)):
                        snap = tracker._edge()
                        self._entries.append((snap.t_monotonic, _SNAP, snap))
                        self._snap_t = snap.t_monotonic
            except Exception:  # noqa: BLE001 - a reading that fails here is taken again later
                from wattprint import _log

                _log.debug("wattprint: a reading for the requests failed", exc_info=True)
            finally:
                tracker._lock.release()
        if settle:
            self.drain()

    def drain(self) -> None:
        """Process the edges and readings recorded so far, settling what they make known."""
        with self._settling:
            with self.lock:
                batch, self._entries = self._entries, []
            if batch:
                self._process(batch)

    # -- the interface of exact edges (one reading each), as tests and exact requests use it -------------------

    def advance(self, snap: Snapshot) -> None:
        """Record a reading: the energy up to it is placed (and idle time closed) once processed."""
        with self.lock:
            if self.final:
                return
            self._entries.append((snap.t_monotonic, _SNAP, snap))
            self._snap_t = snap.t_monotonic
        self.drain()

    def _at(self, snap: Snapshot, op: int, spans: list[_Span]) -> None:
        with self.lock:
            if self.final:
                return
            t = snap.t_monotonic
            self._entries.append((t, _SNAP, snap))
            self._snap_t = t
            for span in spans:
                if op == _OPEN:
                    self._count += 1
                    span.index = self._count
                elif op == _CLOSE:
                    span.closed = True
                self._entries.append((t, op, span))
        self.drain()

    def open(self, snap: Snapshot, span: _Span) -> None:
        self._at(snap, _OPEN, [span])

    def mark_first(self, snap: Snapshot, span: _Span) -> None:
        span.marked = True
        self._at(snap, _FIRST, [span])

    def close(self, snap: Snapshot, span: _Span) -> None:
        self._at(snap, _CLOSE, [span])

    def close_many(self, snap: Snapshot, spans: list[_Span]) -> None:
        self._at(snap, _CLOSE, spans)

    def finish(self, final: Snapshot) -> None:
        """The run stopped at ``final``: requests still open end there, and every interval is shared."""
        with self.lock:
            if not self.final:
                self.final = True
                self._entries.append((final.t_monotonic, _SNAP, final))
                self._snap_t = final.t_monotonic
        job, self._job = self._job, None
        if job is not None:
            job[0].remove_job(job[1])
        with self._settling:
            with self.lock:
                batch, self._entries = self._entries, []
            if batch:
                self._process(batch)
            if self._finished:
                return
            self._finished = True
            end = self._last.t_monotonic
            for span in list(self._active.values()):
                span.end_t = max(end, span.start_t)
                span.closed = True
                if span.pending == 0:
                    self._keep(span)
            self._active.clear()
            self._settle()
            from wattprint.run.steady import steady_window

            window = steady_window((r.start_s, r.end_s) for r in self._settled)
            if window is not None:
                self.buckets.steady(self._settled, window)

    # -- processing (under the settling lock) -------------------------------------------------------------------

    def _process(self, batch: list[tuple[float, int, object]]) -> None:
        held = self._held
        for entry in batch:
            if entry[1] == _SNAP:
                self._segment(entry[2])  # type: ignore[arg-type]
            else:
                held.append(entry)  # type: ignore[arg-type]
        held = self._held
        at = self._last.t_monotonic
        done = 0
        for t, op, span in held:  # edges at the last reading itself (exact ones): placed without waiting
            if t > at:
                break
            self._apply(op, span, at)
            done += 1
        if done:
            del held[:done]
        self._settle()

    def _segment(self, snap: Snapshot) -> None:
        """Place the held edges between the last reading and ``snap``, the energy linear in time between them."""
        last = self._last
        t0, t1 = last.t_monotonic, snap.t_monotonic
        if t1 < t0:
            return  # a reading older than one processed (cannot place it): the next one covers its energy
        values = snap.values
        before = last.values
        deltas = tuple(v - (before[i] if i < len(before) else 0.0) for i, v in enumerate(values))
        width = t1 - t0
        total = sum(deltas)
        spread = INTERPOLATION_SPREAD_REL
        if width > 0:
            power = total / width
            previous = self._power_w
            if previous is not None and max(power, previous) > 0:
                spread = max(spread, min(1.0, abs(power - previous) / max(power, previous)))
            self._power_w = power
        seg: _Reading = (width, spread, deltas, total, [])
        self._idle_parts = {}
        at_t, used = t0, 0.0
        for t, op, span in self._held:
            if t > t1:
                t = t1  # recorded after the run's final reading: placed at it
            if t > at_t:
                part = (t - at_t) / width
                self._interval(at_t, t, part, seg)
                at_t, used = t, used + part
            self._apply(op, span, at_t)
        self._interval(at_t, t1, max(0.0, 1.0 - used), seg)  # the rest: the parts add up to the whole
        self._held.clear()
        self._last = snap
        for bucket_end, (part, seconds) in self._idle_parts.items():
            idle = tuple(d * part for d in deltas)
            _add(self._idle, idle, 1.0)
            self.buckets.idle(bucket_end, idle, seconds)

    def _apply(self, op: int, span: _Span, t: float) -> None:
        if op == _OPEN:
            span.start_t = t
            span.start_wall = self._start.wall_time + (t - self._start.t_monotonic)
            span.energy = []
            span.prefill = []
            span.pending = 0
            span.bases = set()
            span.seg = None
            span.only = None
            span.interp_j = 0.0
            self._active[id(span)] = span
        elif op == _FIRST:
            if span.first_t is None and span.end_t is None and id(span) in self._active:
                span.first_t = t
        elif self._active.pop(id(span), None) is not None:
            span.end_t = max(t, span.start_t)
            if span.pending == 0:  # no interval of any length: nothing to share, settled now
                self._keep(span)

    def _interval(self, t0: float, t1: float, part: float, seg: _Reading) -> None:
        """Close the interval [t0, t1], ``part`` of the reading interval ``seg``, with the requests active now."""
        if not self._active:
            if t1 > t0 or part:
                self._idle_s += t1 - t0
                end_s = t1 - self._start.t_monotonic
                key = self._bucket_end(end_s)
                found = self._idle_parts.get(key)
                if found is None:
                    self._idle_parts[key] = [part, t1 - t0]
                else:
                    found[0] += part
                    found[1] += t1 - t0
            return
        if t1 <= t0 and not part:
            return  # an instant without energy: nothing to share
        active = tuple(self._active.values())
        for span in active:
            span.pending += 1
        self._pending.append((t0, t1, active, seg, part))

    def _bucket_end(self, end_s: float) -> float:
        """A moment in the stored bucket holding ``end_s`` (idle energy is summed per bucket)."""
        bounds = self._bucket_bounds
        if not bounds[0] <= end_s < bounds[1]:
            from wattprint.run.request_buckets import bucket_of, bucket_span

            bounds = self._bucket_bounds = bucket_span(bucket_of(end_s))
        return bounds[0] if bounds[0] <= end_s else end_s

    # -- sharing ---------------------------------------------------------------------------------------------

    def _settle(self) -> None:
        pending = self._pending
        while pending and all(span.end_t is not None for span in pending[0][2]):
            t0, t1, active, seg, part = pending.popleft()
            self._share(t0, t1, active, seg, part)
            for span in active:
                span.pending -= 1
                if span.pending == 0 and span.end_t is not None:
                    self._keep(span)

    def _keep(self, span: _Span) -> None:
        span.result = self._settle_span(span)
        self.buckets.add(span.result)
        if len(self._settled) >= MAX_KEPT_REQUESTS:
            oldest = self._settled.popleft()
            self._dropped += 1
            self._dropped_j += oldest.energy_j
        self._settled.append(span.result)

    @staticmethod
    def _share(t0: float, t1: float, active: tuple[_Span, ...], seg: _Reading, part: float) -> None:
        dt = t1 - t0
        shares: tuple[float, ...]
        if len(active) == 1:
            span = active[0]
            shares = (1.0,)
            if dt > 0:  # alone: shared with nothing, named by what the request stated
                work = span.work(t0, t1)
                span.bases.add(TIME if work is None else work[0])
        else:
            works = [span.work(t0, t1) for span in active]
            units = {work[0] for work in works if work is not None}
            total = sum(work[1] for work in works if work is not None)
            if None in works or len(units) != 1 or total <= 0:
                shares, basis = (1.0 / len(active),) * len(active), TIME
            else:
                shares = tuple(work[1] / total for work in works if work is not None)
                basis = units.pop()
            if dt > 0:  # an instant says nothing about how its (no) energy was shared
                for span in active:
                    span.bases.add(basis)
        for span, share in zip(active, shares, strict=True):
            if span.seg is not seg:
                span.flush_segment()
                span.seg = seg
                span.seg_frac = span.seg_pre = span.seg_dt = 0.0
            received = part * share
            span.seg_frac += received
            if span.first_t is not None and t1 <= span.first_t:
                span.seg_pre += received
            span.seg_dt += dt

    def _settle_span(self, span: _Span) -> RequestEnergy:
        assert span.end_t is not None
        span.flush_segment()
        duration = span.end_t - span.start_t
        energy = sum(span.energy)
        only = span.only
        if energy > 0 and only:  # a part of one reading interval: its method and uncertainty
            assert not isinstance(only, bool)
            known = only[4]
            if not known:
                known.append(self._method(list(only[2])))
            method, uncertainty = known[0]
        else:
            method, uncertainty = self._method(span.energy)
        interpolation = span.interp_j / energy if energy > 0 else 0.0
        if interpolation:
            uncertainty = math.hypot(uncertainty, interpolation)
        prefill = decode = ttft = None
        if span.first_t is not None:
            prefill = sum(span.prefill)
            decode = energy - prefill
            ttft = span.first_t - span.start_t
        bases = span.bases
        return RequestEnergy(
            request_id=str(span.index), started_at=span.start_wall, start_s=span.start_t - self._start.t_monotonic,
            duration_s=duration, energy_j=energy, method=method, uncertainty_rel=uncertainty,
            sharing=next(iter(bases)) if len(bases) == 1 else (MIXED if bases else TIME),
            endpoint=span.endpoint, tokens_in=span.tokens_in, tokens_out=span.tokens_out, items=span.items,
            time_to_first_token_s=ttft, prefill_energy_j=prefill, decode_energy_j=decode,
            edges=METER if span.exact else INTERPOLATED, interpolation_uncertainty_rel=interpolation,
        )

    def _method(self, energy: list[float]) -> tuple[str, float]:
        """``_method`` with the slots' component, uncertainty and method looked up once per meter layout."""
        snap = self._last
        cached = self._slot_info
        if cached is None or cached[0] is not snap.meta or cached[1] != len(snap.slots):
            info = [(snap.meta[key].component, snap.meta[key].uncertainty_by_method[method], method)
                    for key, method in snap.slots]
            cached = self._slot_info = (snap.meta, len(snap.slots), info)
        info = cached[2]
        by_component: dict[str, float] = {}
        used: list[str] = []
        total = 0.0
        for index, value in enumerate(energy):
            component, rel, method = info[index]
            by_component[component] = by_component.get(component, 0.0) + value * rel
            total += value
            if value > 0:
                used.append(method)
        if not used:
            used = [method for _, _, method in info[: len(energy)]] or ["model"]
        uncertainty = math.sqrt(sum(a * a for a in by_component.values())) / total if total > 0 else 0.0
        return weakest_method(used), uncertainty

    def records(self, *, changed_only: bool) -> list[RequestIntervalRecord]:
        """The stored sums of the requests (per time bucket and endpoint): those changed since the last call, or
        all."""
        with self._settling:
            last = self._last
            return self.buckets.records(changed_only=changed_only, method_of=lambda slots: _method(last, slots))

    def log(self) -> RequestLog:
        """What is settled so far (up to the last reading processed)."""
        with self._settling:
            measured = sum(self._last.values) - sum(self._start.values)
            unsettled = sum(entry[3][3] * entry[4] for entry in self._pending)
            return RequestLog(
                run_id=self.run_id,
                requests=tuple(sorted(self._settled, key=lambda r: (r.start_s, int(r.request_id)))),
                idle_energy_j=sum(self._idle),
                idle_s=self._idle_s,
                measured_energy_j=measured,
                measured_s=self._last.t_monotonic - self._start.t_monotonic,
                unsettled_energy_j=unsettled,
                dropped_requests=self._dropped,
                dropped_energy_j=self._dropped_j,
                open_requests=len(self._active) + sum(1 for e in self._held if e[1] == _OPEN)
                - sum(1 for e in self._held if e[1] == _CLOSE),
                final=self._finished,
            )

    def provisional(self, span: _Span) -> tuple[float, str, float]:
        """``Request.provisional``: the span's settled energy plus equal shares of its pending intervals."""
        with self._settling:
            energy: list[float] = list(span.energy) if span.index and hasattr(span, "energy") else []
            if span.index and hasattr(span, "seg") and span.seg is not None:
                _add(energy, span.seg[2], span.seg_frac)
            for _, _, active, seg, part in self._pending:
                if span in active:
                    _add(energy, seg[2], part / len(active))
            method, uncertainty = self._method(energy)
        return sum(energy), method, uncertainty


def _method(snap: Snapshot, energy: list[float]) -> tuple[str, float]:
    """The method and relative uncertainty of energy held per meter slot, combined as a window's are: slots of
    one component share their error source (absolute uncertainties add), components are independent (they add
    in quadrature); the method is the least direct one that contributed energy."""
    by_component: dict[str, float] = {}
    used: list[str] = []
    for index, value in enumerate(energy):
        key, method = snap.slots[index]
        meta = snap.meta[key]
        absolute = value * meta.uncertainty_by_method[method]
        by_component[meta.component] = by_component.get(meta.component, 0.0) + absolute
        if value > 0:
            used.append(method)
    total = sum(energy)
    if not used:
        used = [method for _, method in snap.slots[: len(energy)]] or ["model"]
    uncertainty = math.sqrt(sum(a * a for a in by_component.values())) / total if total > 0 else 0.0
    return weakest_method(used), uncertainty


_ledgers: weakref.WeakKeyDictionary[TrackerBase, RequestLedger] = weakref.WeakKeyDictionary()
_ledgers_lock = threading.Lock()
_meter_edges: weakref.WeakSet[TrackerBase] = weakref.WeakSet()
def _nothing() -> None:
    return None


_recent: Callable[[], RequestLedger | None] = _nothing
"""The ledger last looked up (``_ledger``), weakly: it goes with its tracker."""


def request_edges(tracker: TrackerBase, edges: str) -> None:
    """How the requests of ``tracker``'s runs place their edges: ``"interpolated"`` (the default: a time at
    each edge, the meter read at most once per ``interval_s``) or ``"meter"`` (a meter reading at every edge,
    as ``run.request(..., exact=True)``; exact edges at the cost of a reading each). Applies from the next run,
    and to the current one."""
    if edges not in EDGES:
        raise ConfigError(f"request_edges() takes edges='interpolated' or 'meter', got {edges!r}")
    with _ledgers_lock:
        if edges == METER:
            _meter_edges.add(tracker)
        else:
            _meter_edges.discard(tracker)
        ledger = _ledgers.get(tracker)
        if ledger is not None and ledger.run_id == tracker.run_id:
            ledger.exact = edges == METER


def _ledger(tracker: TrackerBase) -> RequestLedger:
    """The running tracker's ledger for its current run (a new one for each run)."""
    global _recent
    ledger = _recent()
    if ledger is not None and ledger.tracker() is tracker and ledger.run_id == tracker.run_id:
        return ledger  # the common case: the tracker of the last request, found without a lock
    with _ledgers_lock:
        ledger = _ledgers.get(tracker)
        if ledger is None or ledger.run_id != tracker.run_id:
            if tracker._start is None or tracker.run_id is None:
                raise TrackerStateError("the tracker is not running")
            ledger = RequestLedger(tracker.run_id, tracker._start, interval_s=tracker.settings.interval_s,
                                   exact=tracker in _meter_edges)
            ledger.attach(tracker)
            _ledgers[tracker] = ledger
        _recent = weakref.ref(ledger)
        return ledger


def _current(tracker: TrackerBase) -> RequestLedger | None:
    """The ledger of the tracker's current (or last) run brought up to date: finished once the run has stopped,
    else read now and settled. None when the run served no requests."""
    with _ledgers_lock:
        ledger = _ledgers.get(tracker)
    if ledger is None or ledger.run_id != tracker.run_id:
        return None
    final = tracker._final
    if not tracker.running and final is not None:
        ledger.finish(final)
    else:
        ledger.refresh(tracker, force=True)
    return ledger


def request_records(tracker: TrackerBase, run_id: str, *, changed_only: bool) -> list[RequestIntervalRecord]:
    """What the store keeps of run ``run_id``'s requests: its sums per time bucket and endpoint changed since the
    last call (or all of them), with the steady-state rows once the run has stopped. Empty without requests."""
    with _ledgers_lock:
        ledger = _ledgers.get(tracker)
    if ledger is None or ledger.run_id != run_id:
        return []
    if ledger.run_id == tracker.run_id:
        _current(tracker)
    return ledger.records(changed_only=changed_only)


def with_inference(tracker: TrackerBase, result: RunResult) -> RunResult:
    """The stopped run's result with its inference figures (``result.inference``), when it served requests.
    Trouble working them out is logged once and leaves the result as it was."""
    with _ledgers_lock:
        ledger = _ledgers.get(tracker)
    if ledger is None or ledger.run_id != result.run_id:
        return result
    from dataclasses import replace

    from wattprint.run.request_figures import summarize_log

    try:
        log = request_log(tracker)
        inference = summarize_log(log, result=result) if log is not None else None
    except Exception as error:  # noqa: BLE001 - never raised into the code that stops the run
        from wattprint._log import warn_once

        warn_once("inference-summary", f"wattprint: the run's inference figures could not be made: {error}")
        return result
    return result if inference is None else replace(result, inference=inference)


def request_log(tracker: TrackerBase) -> RequestLog | None:
    """The tracker's current (or last) run's requests so far (a reading is taken now while it runs); None when
    it served none."""
    ledger = _current(tracker)
    return None if ledger is None else ledger.log()


class Request:
    """One request served inside a running tracker (``run.request(...)``); a context manager, sync or async.

    Set ``tokens_in``, ``tokens_out`` or ``items`` any time before it ends; call ``first_token()`` when the first
    output token is ready to measure prefill and decode apart. ``energy`` is the settled share once the request
    and every request overlapping it have ended (None before). ``exact=True`` reads the meter at each of its
    edges instead of interpolating between the meter's readings (docs/inference.md: the cost and the gain).
    """

    __slots__ = ("_tracker", "_ledger", "_span")

    def __init__(self, tracker: TrackerBase, *, tokens_in: int | None = None, tokens_out: int | None = None,
                 items: int | None = None, endpoint: str | None = None, exact: bool = False) -> None:
        sub = tracker._sub
        if sub is None:
            raise TrackerStateError(
                "run.request() needs a running tracker: call run.start() first or use "
                "`with wattprint.track(...) as run:`"
            )
        if sub.stale:
            raise TrackerStateError(
                "this tracker was started in the parent process; start a new tracker in the forked child"
            )
        if exact is not True and exact is not False:
            raise ConfigError(f"exact must be True or False, got {exact!r}")
        self._tracker = tracker
        self._ledger: RequestLedger | None = None
        self._span = _Span(None if endpoint is None else check_name("endpoint", endpoint),
                           _check_count("tokens_in", tokens_in), _check_count("tokens_out", tokens_out),
                           _check_count("items", items), exact)

    def _set(self, name: str, value: object) -> None:
        checked = _check_count(name, value)
        if self._span.closed:
            raise TrackerStateError(f"{name} must be set before the request ends (inside its `with` block)")
        setattr(self._span, name, checked)

    @property
    def endpoint(self) -> str | None:
        """What the request was for (a route, a task); a label for the figures per endpoint."""
        return self._span.endpoint

    @endpoint.setter
    def endpoint(self, value: str | None) -> None:
        checked = check_name("endpoint", value)
        if self._span.closed:
            raise TrackerStateError("endpoint must be set before the request ends (inside its `with` block)")
        self._span.endpoint = checked

    @property
    def tokens_in(self) -> int | None:
        """Prompt (input) tokens."""
        return self._span.tokens_in

    @tokens_in.setter
    def tokens_in(self, value: int | None) -> None:
        self._set("tokens_in", value)

    @property
    def tokens_out(self) -> int | None:
        """Generated (output) tokens."""
        return self._span.tokens_out

    @tokens_out.setter
    def tokens_out(self, value: int | None) -> None:
        span = self._span
        if value is not None and (type(value) is not int or value < 0) or span.closed:
            self._set("tokens_out", value)  # says what is wrong
        span.tokens_out = value

    @property
    def items(self) -> int | None:
        """Images, documents or other units processed, where tokens are not the unit."""
        return self._span.items

    @items.setter
    def items(self, value: int | None) -> None:
        self._set("items", value)

    @property
    def exact(self) -> bool:
        """Whether the request's edges read the meter (``exact=True`` or ``request_edges(run, "meter")``)."""
        return self._span.exact

    @property
    def ended(self) -> bool:
        """Whether the request has ended (by ``stop()``, or by the run's stop)."""
        return self._span.closed

    def provisional(self) -> tuple[float, str, float]:
        """A figure for a request still in flight (a response header): ``(energy_j, method, uncertainty_rel)`` of
        the energy measured since it started, shared equally among the requests in flight in each interval.

        Only an indication: the settled share (``energy``) may differ, since it shares by work where sizes are
        known and counts the request's time after this call. It reads the meter (as an exact edge does).
        """
        ledger = self._ledger
        if ledger is None:
            raise TrackerStateError("provisional() needs a started request: use `with run.request(...) as req:`")
        if not self._span.closed:
            ledger.refresh(self._tracker, force=True)
        return ledger.provisional(self._span)

    def start(self) -> Request:
        if self._ledger is not None:
            raise TrackerStateError("this request was already started; create a new one with run.request()")
        ledger = _ledger(self._tracker)
        span = self._span
        if span.exact or ledger.exact:
            span.exact = True
            ledger.record_exact(self._tracker, _OPEN, (span,))
        elif ledger.record_one(_OPEN, span):
            ledger.refresh(self._tracker, settle=False)
        self._ledger = ledger
        return self

    def first_token(self) -> None:
        """Mark the first output token: the energy before is prefill, after it decode (later calls do nothing)."""
        ledger, span = self._ledger, self._span
        if ledger is None:
            raise TrackerStateError("first_token() needs a started request: use `with run.request(...) as req:`")
        if span.marked or span.closed:
            return
        span.marked = True
        if span.exact:
            ledger.record_exact(self._tracker, _FIRST, (span,))
        elif ledger.record_one(_FIRST, span):
            ledger.refresh(self._tracker, settle=False)

    def stop(self) -> None:
        """End the request (a second call does nothing; one the run's stop ended keeps that end)."""
        ledger, span = self._ledger, self._span
        if ledger is None:
            raise TrackerStateError("this request was never started")
        if span.closed:
            return
        span.closed = True
        if span.exact:
            ledger.record_exact(self._tracker, _CLOSE, (span,))
        elif ledger.record_one(_CLOSE, span):
            ledger.refresh(self._tracker, settle=False)

    @property
    def energy(self) -> RequestEnergy | None:
        """The request's settled energy share (None until it and every request overlapping it have ended). Asked
        for while the run goes on, it takes a meter reading to settle what it can."""
        span = self._span
        if span.result is None and span.closed and self._ledger is not None:
            tracker = self._tracker
            if self._ledger.run_id == tracker.run_id:
                _current(tracker)
            else:
                self._ledger.drain()
        return span.result

    def __enter__(self) -> Request:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._ledger is not None:
            self.stop()

    async def __aenter__(self) -> Request:
        return self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.__exit__(exc_type, exc, tb)


def _together(requests: list[Request], what: str) -> tuple[RequestLedger, TrackerBase] | None:
    if not requests:
        return None
    tracker = requests[0]._tracker
    if any(r._tracker is not tracker for r in requests):
        raise ConfigError(f"{what}: the requests belong to different trackers; handle each tracker's apart")
    return _ledger(tracker), tracker


def _batch_edge(ledger: RequestLedger, tracker: TrackerBase, op: int, spans: tuple[_Span, ...]) -> None:
    if any(span.exact for span in spans) or (op == _OPEN and ledger.exact):
        for span in spans:
            span.exact = True
        ledger.record_exact(tracker, op, spans)
    elif ledger.record(op, spans):
        ledger.refresh(tracker, settle=False)


def start_batch(requests: list[Request]) -> None:
    """Start requests served together (one batch) at one edge, so that none counts as having arrived first."""
    found = _together(requests, "start_batch()")
    if found is None:
        return
    ledger, tracker = found
    if any(r._ledger is not None for r in requests):
        raise TrackerStateError("a request of the batch was already started; create new ones with run.request()")
    _batch_edge(ledger, tracker, _OPEN, tuple(r._span for r in requests))
    for request in requests:
        request._ledger = ledger


def first_token_batch(requests: list[Request]) -> None:
    """Mark the first token of requests served together at one edge (see ``Request.first_token``)."""
    found = _together(requests, "first_token_batch()")
    if found is None:
        return
    ledger, tracker = found
    spans = tuple(r._span for r in requests if r._ledger is ledger and not r._span.marked and not r._span.closed)
    for span in spans:
        span.marked = True
    if spans:
        _batch_edge(ledger, tracker, _FIRST, spans)


def stop_batch(requests: list[Request]) -> None:
    """End requests served together at one edge (those already ended keep their end)."""
    found = _together(requests, "stop_batch()")
    if found is None:
        return
    ledger, tracker = found
    spans = tuple(r._span for r in requests if r._ledger is ledger and not r._span.closed)
    for span in spans:
        span.closed = True
    if spans:
        _batch_edge(ledger, tracker, _CLOSE, spans)
