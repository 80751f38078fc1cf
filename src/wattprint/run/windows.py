"""Task windows inside a running tracker: ``run.task(name)`` and ``run.epoch()``."""

from __future__ import annotations

from wattprint.core.errors import TrackerStateError
from wattprint.measure.windows import window_result

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.core.results import WindowResult
    from wattprint.measure.meter import Snapshot
    from wattprint.run.training import Training


class Window:
    """A measurement window inside a running tracker: ``with run.task("epoch-1") as window: ...``.

    Windows may nest and overlap; each is measured between its own edges. ``window.result`` is available once
    it stops (at the latest when its tracker stops), and is computed on first access, so a window costs two
    meter readings and nothing more.
    """

    __slots__ = ("name", "_tracker", "_start", "_end", "_result")

    def __init__(self, tracker: Training, name: str) -> None:
        self.name = name
        self._tracker = tracker
        self._start: Snapshot | None = None
        self._end: Snapshot | None = None
        self._result: WindowResult | None = None

    @property
    def result(self) -> WindowResult | None:
        """The window's energy once it has stopped; None while it runs."""
        if self._result is None and self._end is not None:
            assert self._start is not None
            self._result = self._tracker._account(
                window_result(self.name, self._start, self._end, self._tracker.attribution)
            )
        return self._result

    def start(self) -> Window:
        if self._start is not None:
            raise TrackerStateError(f"task {self.name!r} was already started; create a new one with run.task()")
        self._start = self._tracker._edge()
        self._tracker._opened(self)
        return self

    def stop(self) -> WindowResult:
        """End the window (a second call returns the same result)."""
        if self._end is None:
            if self._start is None:
                raise TrackerStateError(f"task {self.name!r} was never started")
            self._finish(self._tracker._edge_or_final())
        result = self.result
        assert result is not None
        return result

    def _finish(self, end: Snapshot) -> None:
        self._end = end
        self._tracker._closed(self)

    def snapshot(self) -> WindowResult:
        """Energy so far, without stopping."""
        done = self.result
        if done is not None:
            return done
        if self._start is None:
            raise TrackerStateError(f"task {self.name!r} was never started")
        return self._tracker._account(
            window_result(self.name, self._start, self._tracker._edge(), self._tracker.attribution)
        )

    def __enter__(self) -> Window:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self._end is None and self._start is not None:
            self._finish(self._tracker._edge_or_final())


class EpochWindow(Window):
    """An epoch: a task window whose end feeds the run's predictions and budget (``with run.epoch(): ...``).

    An epoch that ends with an exception, or that the tracker's stop ends, is kept as a task but not predicted
    from.
    """

    __slots__ = ("_total", "_raise", "_failed")

    def __init__(self, tracker: Training, name: str, total_epochs: int | None, raise_on_budget: bool) -> None:
        super().__init__(tracker, name)
        self._total = total_epochs
        self._raise = raise_on_budget
        self._failed = False

    def start(self) -> EpochWindow:
        super().start()
        monitor = self._tracker._monitor
        if monitor is not None and self._start is not None:
            monitor.epoch_started(self._start)
        return self

    def _finish(self, end: Snapshot) -> None:
        super()._finish(end)
        if not self._failed and self._tracker._final is None:
            self._tracker._epoch_done(end, self._total, self._raise)

    def __exit__(self, *exc: object) -> None:
        self._failed = exc[0] is not None
        super().__exit__(*exc)
