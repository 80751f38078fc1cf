"""Sending a local store's unsent runs to a team server: ``wattprint push``, and a writer catching up in the
background. Each run goes whole (its totals, every interval and task) with the ids the client made, so a run sent
twice is stored once; the outbox marks (``store.outbox``) record what the server acknowledged, batch by batch."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from wattprint.client.http import Ack, ServerClient, ServerRefused, ServerUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.api.records import RunDocument
    from wattprint.store.runstore import RunStore

__all__ = ["BATCH_SIZE", "PushResult", "Refusal", "push", "stored_document"]

BATCH_SIZE = 50
"""Runs read from the store, sent, and marked as acknowledged per batch."""
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 8.0
"""The pause before trying a run again after the server could not be reached grows from the first to the last."""


@dataclass(frozen=True)
class Refusal:
    """A run the server refused, and why (the message says the fix)."""

    run_id: str
    project: str | None
    status: int | None
    message: str


@dataclass
class PushResult:
    """What a push did: the runs the server acknowledged, those it refused, and what is still unsent."""

    server: str
    sent: list[str] = field(default_factory=list)
    intervals: int = 0
    tasks: int = 0
    newer_there: int = 0
    """Runs the server acknowledged while holding a newer state of them already (nothing changed there)."""
    refused: list[Refusal] = field(default_factory=list)
    error: str | None = None
    """Why the push stopped early (the server unreachable, or the token refused), None when it did not."""
    error_status: int | None = None
    """The HTTP status that stopped it (401, 404, a 5xx; None when the server could not be reached)."""
    left: int = 0
    """Runs still unsent when it ended."""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.refused

    def to_dict(self) -> dict[str, object]:
        """What ``wattprint push --json`` prints."""
        return {"server": self.server, "sent": len(self.sent), "run_ids": list(self.sent),
                "intervals": self.intervals, "tasks": self.tasks, "newer_there": self.newer_there,
                "refused": [{"run_id": r.run_id, "project": r.project, "status": r.status, "message": r.message}
                            for r in self.refused],
                "left": self.left, "error": self.error}

    def summary(self) -> str:
        """What ``wattprint push`` prints: what was sent, what was refused and why, what is left."""
        if not self.sent and not self.refused and self.error is None:
            return f"nothing to send: {self.server} has every run of this store"
        runs = "run" if len(self.sent) == 1 else "runs"
        lines = [f"sent {len(self.sent)} {runs} to {self.server} ({self.intervals:,} intervals, {self.tasks:,} "
                 f"tasks)" + (f"; {self.newer_there} were there already, newer" if self.newer_there else "")]
        lines += [f"refused {r.run_id[:12]} ({r.project or 'no project'}): {r.message}" for r in self.refused[:5]]
        if len(self.refused) > 5:
            lines.append(f"... and {len(self.refused) - 5} more refused")
        if self.error is not None:
            lines.append(f"stopped: {self.error}")
        if self.left:
            lines.append(f"{self.left} run(s) still unsent: run 'wattprint push' again once fixed")
        return "\n".join(lines)


def stored_document(store: RunStore, run_id: str) -> RunDocument:
    """A stored run as one document: the run, its totals, every interval and task, its request sums."""
    from wattprint.api.records import RunDocument
    from wattprint.store.requests import read_request_intervals

    return RunDocument(run=store.run(run_id), components=tuple(store.components(run_id)),
                       intervals=tuple(store.intervals(run_id)), tasks=tuple(store.tasks(run_id)),
                       request_intervals=tuple(read_request_intervals(store, run_id)))


def push(store: RunStore, client: ServerClient, *, project: str | None = None, queued_only: bool = False,
         exclude: Collection[str] = (), skip_projects: Collection[str | None] = (), batch_size: int = BATCH_SIZE,
         retry_for_s: float = 30.0, deadline: float | None = None, timeout_s: float | None = None,
         on_sent: Callable[[PushResult], None] | None = None) -> PushResult:
    """Send every run of ``store`` that ``client``'s server has not acknowledged (``project``'s only; with
    ``queued_only`` those marked for it), oldest first, and mark each acknowledged one in the store's outbox.

    A server that cannot be reached or fails (5xx) is tried again, pausing longer each time, for ``retry_for_s``;
    then the push stops and says why. A refused token (401) or a missing API (404) stops it at once; a run refused
    on its own (another project's token, a payload the server rejects) is left unsent and the others go on.
    ``deadline`` (``time.monotonic()``) ends the push between two runs; ``on_sent`` is called after each batch.
    """
    from wattprint.store import outbox

    result = PushResult(client.url)
    refused_projects: dict[str | None, Refusal] = {}
    skipped = set(exclude)
    try:
        while deadline is None or time.monotonic() < deadline:
            batch = [run_id for run_id, _ in outbox.unsent(store, client.url, project=project, queued_only=queued_only,
                                                           exclude=sorted(skipped), limit=batch_size)]
            if not batch:
                break
            acks: list[tuple[str, float]] = []
            try:
                for run_id in batch:
                    skipped.add(run_id)  # sent or refused: not asked for again in this push
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    document = stored_document(store, run_id)
                    run = document.run
                    if run.project in skip_projects or run.project in refused_projects:
                        continue
                    try:
                        ack = _send(client, document, retry_for_s, timeout_s)
                    except ServerRefused as error:
                        refusal = Refusal(run_id, run.project, error.status, str(error))
                        if error.status in (401, 404):
                            result.error, result.error_status = str(error), error.status
                            return result
                        if error.status == 403:
                            refused_projects[run.project] = refusal
                        result.refused.append(refusal)
                        continue
                    acks.append((run_id, run.updated_at))
                    result.sent.append(run_id)
                    result.intervals += len(document.intervals)
                    result.tasks += len(document.tasks)
                    result.newer_there += not ack.stored
            except ServerUnavailable as error:
                result.error, result.error_status = str(error), error.status
                return result
            finally:
                outbox.mark_sent(store, client.url, acks)
                if on_sent is not None and acks:
                    on_sent(result)
    finally:
        result.left = len(outbox.unsent(store, client.url, project=project, queued_only=queued_only,
                                         exclude=sorted(exclude)))
    return result


def _send(client: ServerClient, document: RunDocument, retry_for_s: float, timeout_s: float | None) -> Ack:
    """Send one run, trying again while the server cannot be reached, for ``retry_for_s`` at most."""
    give_up = time.monotonic() + retry_for_s
    pause = RETRY_FIRST_S
    while True:
        try:
            return client.put_run(document, timeout_s=timeout_s)
        except ServerUnavailable:
            if time.monotonic() + pause > give_up:
                raise
            time.sleep(pause * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not a secret
            pause = min(pause * 2, RETRY_MAX_S)
