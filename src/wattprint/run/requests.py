"""Requests served inside a run: ``with run.request(tokens_in=n) as req: ...; req.tokens_out = m``.

Every request start, end and first token is an edge read from the meter. Between two edges the set of active
requests is fixed, and that interval's measured energy is shared among them: by work (tokens, or items)
processed where every active request states it, otherwise equally (by time). Intervals with no active request
are idle. The shares of an interval add up to its energy, so requests plus idle add up to the run's energy.

An interval is shared once every request active in it has ended (its token count is only known then), so a
request's energy is settled when the last request overlapping it ends; only those intervals are held.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import deque
from dataclasses import dataclass

from wattprint.core.errors import ConfigError, TrackerStateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

    from wattprint.api.records import RequestIntervalRecord, RequestRecord
    from wattprint.core.results import RunResult
    from wattprint.measure.meter import Snapshot
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
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{argument} must be a whole number of {argument.split('_')[0]} (or None), got "
                          f"{type(value).__name__} {value!r}")
    if value < 0:
        raise ConfigError(f"{argument} must be 0 or more, got {value}")
    return value


class _Span:
    """A request's edges, sizes and its energy per meter slot (total, and before its first token)."""

    __slots__ = ("index", "endpoint", "tokens_in", "tokens_out", "items", "start_t", "start_wall", "first_t",
                 "end_t", "energy", "prefill", "pending", "bases", "result")

    def __init__(self, endpoint: str | None, tokens_in: int | None, tokens_out: int | None,
                 items: int | None) -> None:
        self.index = 0
        self.endpoint = endpoint
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out
        self.items = items
        self.start_t = 0.0
        self.start_wall = 0.0
        self.first_t: float | None = None
        self.end_t: float | None = None
        self.energy: list[float] = []
        self.prefill: list[float] = []
        self.pending = 0
        self.bases: set[str] = set()
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


def _rate(unit: str, amount: int | None, phase_s: float, dt: float) -> tuple[str, float] | None:
    if amount is None:
        return None
    return unit, (amount * dt / phase_s if phase_s > 0 else 0.0)


def _add(into: list[float], values: tuple[float, ...] | list[float], share: float) -> None:
    if len(into) < len(values):
        into.extend([0.0] * (len(values) - len(into)))
    for i, value in enumerate(values):
        into[i] += value * share


class RequestLedger:
    """The edges of one run's requests, the intervals between them, and the shares settled so far."""

    def __init__(self, run_id: str, start: Snapshot) -> None:
        from wattprint.run.request_buckets import RequestBuckets

        self.run_id = run_id
        self.buckets = RequestBuckets()
        """The settled requests and idle time summed per time bucket and endpoint: what the store keeps."""
        self.lock = threading.Lock()
        self._start = start
        self._last = start
        self._active: dict[int, _Span] = {}
        self._pending: deque[tuple[float, float, tuple[float, ...], tuple[_Span, ...]]] = deque()
        self._idle: list[float] = []
        self._idle_s = 0.0
        self._settled: deque[RequestEnergy] = deque()
        self._dropped = 0
        self._dropped_j = 0.0
        self._count = 0
        self.final = False

    # -- edges (called with ``lock`` held, the snapshot read under it so that edges arrive in time order) --------

    def advance(self, snap: Snapshot) -> None:
        """Close the interval from the last edge to ``snap`` with the requests active now."""
        last = self._last
        if snap.t_monotonic < last.t_monotonic:
            return  # the run's final reading came first: later edges add nothing
        before = last.values
        deltas = tuple(v - (before[i] if i < len(before) else 0.0) for i, v in enumerate(snap.values))
        t0, t1 = last.t_monotonic, snap.t_monotonic
        self._last = snap
        if not self._active:
            _add(self._idle, deltas, 1.0)
            self._idle_s += t1 - t0
            self.buckets.idle(t1 - self._start.t_monotonic, deltas, t1 - t0)
            return
        active = tuple(self._active.values())
        for span in active:
            span.pending += 1
        self._pending.append((t0, t1, deltas, active))

    def open(self, snap: Snapshot, span: _Span) -> None:
        self.advance(snap)
        self._count += 1
        span.index = self._count
        span.start_t = snap.t_monotonic
        span.start_wall = self._start.wall_time + (snap.t_monotonic - self._start.t_monotonic)
        self._active[id(span)] = span

    def mark_first(self, snap: Snapshot, span: _Span) -> None:
        self.advance(snap)
        span.first_t = snap.t_monotonic

    def close(self, snap: Snapshot, span: _Span) -> None:
        self.close_many(snap, [span])

    def close_many(self, snap: Snapshot, spans: list[_Span]) -> None:
        self.advance(snap)
        for span in spans:
            span.end_t = max(snap.t_monotonic, span.start_t)
            self._active.pop(id(span), None)
        self._settle()

    def finish(self, final: Snapshot) -> None:
        """The run stopped at ``final``: requests still open end there, and every interval is shared."""
        if self.final:
            return
        self.advance(final)
        for span in list(self._active.values()):
            span.end_t = final.t_monotonic
        self._active.clear()
        self._settle()
        self.final = True
        from wattprint.run.steady import steady_window

        window = steady_window((r.start_s, r.end_s) for r in self._settled)
        if window is not None:
            self.buckets.steady(self._settled, window)

    # -- sharing ---------------------------------------------------------------------------------------------

    def _settle(self) -> None:
        pending = self._pending
        while pending and all(span.end_t is not None for span in pending[0][3]):
            t0, t1, deltas, active = pending.popleft()
            self._share(t0, t1, deltas, active)
            for span in active:
                span.pending -= 1
                if span.pending == 0 and span.end_t is not None:
                    span.result = self._settle_span(span)
                    self.buckets.add(span.result)
                    if len(self._settled) >= MAX_KEPT_REQUESTS:
                        oldest = self._settled.popleft()
                        self._dropped += 1
                        self._dropped_j += oldest.energy_j
                    self._settled.append(span.result)

    @staticmethod
    def _share(t0: float, t1: float, deltas: tuple[float, ...], active: tuple[_Span, ...]) -> None:
        works = [span.work(t0, t1) for span in active]
        units = {work[0] for work in works if work is not None}
        total = sum(work[1] for work in works if work is not None)
        if None in works or len(units) != 1 or total <= 0:
            shares, basis = [1.0 / len(active)] * len(active), TIME
        else:
            shares, basis = [work[1] / total for work in works if work is not None], units.pop()
        for span, share in zip(active, shares, strict=True):
            if t1 > t0:  # an instant says nothing about how its (no) energy was shared
                span.bases.add(basis)
            _add(span.energy, deltas, share)
            if span.first_t is not None and t1 <= span.first_t:
                _add(span.prefill, deltas, share)

    def _settle_span(self, span: _Span) -> RequestEnergy:
        assert span.end_t is not None
        duration = span.end_t - span.start_t
        energy = sum(span.energy)
        method, uncertainty = _method(self._last, span.energy)
        prefill = decode = ttft = None
        if span.first_t is not None:
            prefill = sum(span.prefill)
            decode = energy - prefill
            ttft = span.first_t - span.start_t
        return RequestEnergy(
            request_id=str(span.index), started_at=span.start_wall, start_s=span.start_t - self._start.t_monotonic,
            duration_s=duration, energy_j=energy, method=method, uncertainty_rel=uncertainty,
            sharing=span.bases.pop() if len(span.bases) == 1 else (MIXED if span.bases else TIME),
            endpoint=span.endpoint, tokens_in=span.tokens_in, tokens_out=span.tokens_out, items=span.items,
            time_to_first_token_s=ttft, prefill_energy_j=prefill, decode_energy_j=decode,
        )

    def records(self, *, changed_only: bool) -> list[RequestIntervalRecord]:
        """The stored sums of the requests (per time bucket and endpoint): those changed since the last call, or
        all."""
        last = self._last
        return self.buckets.records(changed_only=changed_only, method_of=lambda slots: _method(last, slots))

    def log(self) -> RequestLog:
        """What is settled so far."""
        measured = sum(self._last.values) - sum(self._start.values)
        unsettled = sum(sum(deltas) for _, _, deltas, _ in self._pending)
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
            open_requests=len(self._active),
            final=self.final,
        )


def _method(snap: Snapshot, energy: list[float]) -> tuple[str, float]:
    """The method and relative uncertainty of energy held per meter slot, combined as a window's are: slots of
    one component share their error source (absolute uncertainties add), components are independent (they add
    in quadrature); the method is the least direct one that contributed energy."""
    from wattprint.core.methods import weakest_method

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


def _ledger(tracker: TrackerBase) -> RequestLedger:
    """The running tracker's ledger for its current run (a new one for each run)."""
    with _ledgers_lock:
        ledger = _ledgers.get(tracker)
        if ledger is None or ledger.run_id != tracker.run_id:
            if tracker._start is None or tracker.run_id is None:
                raise TrackerStateError("the tracker is not running")
            ledger = RequestLedger(tracker.run_id, tracker._start)
            _ledgers[tracker] = ledger
        return ledger


def request_records(tracker: TrackerBase, run_id: str, *, changed_only: bool) -> list[RequestIntervalRecord]:
    """What the store keeps of run ``run_id``'s requests: its sums per time bucket and endpoint changed since the
    last call (or all of them), with the steady-state rows once the run has stopped. Empty without requests."""
    with _ledgers_lock:
        ledger = _ledgers.get(tracker)
    if ledger is None or ledger.run_id != run_id:
        return []
    with ledger.lock:
        if ledger.run_id == tracker.run_id and not tracker.running and tracker._final is not None:
            ledger.finish(tracker._final)
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
    """The tracker's current (or last) run's requests so far; None when it served none."""
    with _ledgers_lock:
        ledger = _ledgers.get(tracker)
    if ledger is None or ledger.run_id != tracker.run_id:
        return None
    with ledger.lock:
        final = tracker._final
        if not tracker.running and final is not None:
            ledger.finish(final)
        return ledger.log()


class Request:
    """One request served inside a running tracker (``run.request(...)``); a context manager, sync or async.

    Set ``tokens_in``, ``tokens_out`` or ``items`` any time before it ends; call ``first_token()`` when the first
    output token is ready to measure prefill and decode apart. ``energy`` is the settled share once the request
    and every request overlapping it have ended (None before).
    """

    __slots__ = ("_tracker", "_ledger", "_span")

    def __init__(self, tracker: TrackerBase, *, tokens_in: int | None = None, tokens_out: int | None = None,
                 items: int | None = None, endpoint: str | None = None) -> None:
        if not tracker.running:
            raise TrackerStateError(
                "run.request() needs a running tracker: call run.start() first or use "
                "`with wattprint.track(...) as run:`"
            )
        from wattprint.core.errors import check_name

        self._tracker = tracker
        self._ledger: RequestLedger | None = None
        self._span = _Span(check_name("endpoint", endpoint), _check_count("tokens_in", tokens_in),
                           _check_count("tokens_out", tokens_out), _check_count("items", items))

    def _set(self, name: str, value: object) -> None:
        checked = _check_count(name, value)
        if self._span.end_t is not None:
            raise TrackerStateError(f"{name} must be set before the request ends (inside its `with` block)")
        setattr(self._span, name, checked)

    @property
    def endpoint(self) -> str | None:
        """What the request was for (a route, a task); a label for the figures per endpoint."""
        return self._span.endpoint

    @endpoint.setter
    def endpoint(self, value: str | None) -> None:
        from wattprint.core.errors import check_name

        checked = check_name("endpoint", value)
        if self._span.end_t is not None:
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
        self._set("tokens_out", value)

    @property
    def items(self) -> int | None:
        """Images, documents or other units processed, where tokens are not the unit."""
        return self._span.items

    @items.setter
    def items(self, value: int | None) -> None:
        self._set("items", value)

    @property
    def ended(self) -> bool:
        """Whether the request has ended (by ``stop()``, or by the run's stop)."""
        return self._span.end_t is not None

    def provisional(self) -> tuple[float, str, float]:
        """A figure for a request still in flight (a response header): ``(energy_j, method, uncertainty_rel)`` of
        the energy measured since it started, shared equally among the requests in flight in each interval.

        Only an indication: the settled share (``energy``) may differ, since it shares by work where sizes are
        known and counts the request's time after this call. It adds an edge (a meter read), as ``first_token``.
        """
        ledger, span = self._ledger, self._span
        if ledger is None:
            raise TrackerStateError("provisional() needs a started request: use `with run.request(...) as req:`")
        with ledger.lock:
            if span.end_t is None and not ledger.final:
                ledger.advance(self._tracker._edge_or_final())
            energy: list[float] = list(span.energy)
            for _, _, deltas, active in ledger._pending:
                if span in active:
                    _add(energy, deltas, 1.0 / len(active))
            method, uncertainty = _method(ledger._last, energy)
        return sum(energy), method, uncertainty

    def start(self) -> Request:
        if self._ledger is not None:
            raise TrackerStateError("this request was already started; create a new one with run.request()")
        ledger = _ledger(self._tracker)
        with ledger.lock:
            ledger.open(self._tracker._edge(), self._span)
            self._ledger = ledger
        return self

    def first_token(self) -> None:
        """Mark the first output token: the energy before is prefill, after it decode (later calls do nothing)."""
        ledger, span = self._ledger, self._span
        if ledger is None:
            raise TrackerStateError("first_token() needs a started request: use `with run.request(...) as req:`")
        with ledger.lock:
            if span.first_t is None and span.end_t is None and not ledger.final:
                ledger.mark_first(self._tracker._edge_or_final(), span)

    def stop(self) -> None:
        """End the request (a second call does nothing; one the run's stop ended keeps that end)."""
        ledger, span = self._ledger, self._span
        if ledger is None:
            raise TrackerStateError("this request was never started")
        with ledger.lock:
            if span.end_t is None and not ledger.final and ledger.run_id == self._tracker.run_id:
                ledger.close(self._tracker._edge_or_final(), span)

    @property
    def energy(self) -> RequestEnergy | None:
        """The request's settled energy share (None until it and every request overlapping it have ended)."""
        return self._span.result

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


def start_batch(requests: list[Request]) -> None:
    """Start requests served together (one batch) at one edge, so that none counts as having arrived first."""
    found = _together(requests, "start_batch()")
    if found is None:
        return
    ledger, tracker = found
    if any(r._ledger is not None for r in requests):
        raise TrackerStateError("a request of the batch was already started; create new ones with run.request()")
    with ledger.lock:
        snap = tracker._edge()
        for request in requests:
            ledger.open(snap, request._span)
            request._ledger = ledger


def first_token_batch(requests: list[Request]) -> None:
    """Mark the first token of requests served together at one edge (see ``Request.first_token``)."""
    found = _together(requests, "first_token_batch()")
    if found is None:
        return
    ledger, tracker = found
    with ledger.lock:
        spans = [r._span for r in requests if r._ledger is ledger and r._span.first_t is None and r._span.end_t is None]
        if spans and not ledger.final:
            snap = tracker._edge_or_final()
            ledger.advance(snap)
            for span in spans:
                span.first_t = snap.t_monotonic


def stop_batch(requests: list[Request]) -> None:
    """End requests served together at one edge (those already ended keep their end)."""
    found = _together(requests, "stop_batch()")
    if found is None:
        return
    ledger, tracker = found
    with ledger.lock:
        spans = [r._span for r in requests if r._ledger is ledger and r._span.end_t is None]
        if spans and not ledger.final and ledger.run_id == tracker.run_id:
            ledger.close_many(tracker._edge_or_final(), spans)
