"""A tracker's store wiring: where its runs go, what the stored run holds beyond the result, waiting for the save.

The writing itself is the recorder's (``wattprint.sinks.recorder``), in one background thread for all trackers;
it reads ``record_fields`` and ``record_extra`` (``wattprint.sinks.payload``). ``Tracker.start`` and ``stop``
hand the run to it.
"""

from __future__ import annotations

import time

from wattprint.run.training import Training

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.api.records import RequestIntervalRecord


class Recording(Training):
    """Where a tracker's runs are stored, and the fields of the stored run that the result does not hold."""

    store: str | None
    flush_interval_s: float
    command: str | None
    """The command a ``wattprint run`` ran, stored with the run."""
    exit_code: int | None
    parent_run: str | None
    """The run of the ``wattprint run`` whose command this process is (None outside one): stored with the run."""
    _final_queued: bool

    def _store_url(self) -> str | None:
        """Where the run ``start()`` begins is stored; it is also sent to the ``server`` setting's team server."""
        from wattprint.store.urls import resolve_store_url

        url = resolve_store_url(self.store)
        if self.settings.server is not None:
            from wattprint.run.server import send_to_server

            send_to_server(self, url)
        return url

    exported = True
    """Whether this tracker's runs go to the exporters and the other attached sinks (False: a probe that is no run
    of its own, such as the one ``wattprint run`` warms the sensors with)."""

    def _exporting(self) -> bool:
        """Attach the exporters of the ``exporters`` setting (once per process); whether any sink is attached, so
        that a run with storing off still makes payloads for the exporters."""
        if not self.exported:
            return False
        if self.settings.exporters:
            from wattprint.run.exporters import export

            return export(self)
        import sys

        recorder = sys.modules.get("wattprint.sinks.recorder")  # not imported yet: nothing is attached
        return recorder is not None and recorder.has_attached_sinks()

    @property
    def store_url(self) -> str | None:
        """Where this tracker's runs are stored (password masked), None when storing is off."""
        from wattprint.store.urls import mask_password, resolve_store_url

        url = resolve_store_url(self.store)
        return mask_password(url) if url else None

    @property
    def record_fields(self) -> dict[str, Any]:
        """Fields of the stored run that the tracker knows beyond its result (the command without credentials, or
        none with ``store_command = false``)."""
        command = self.command
        if command is not None:
            if self.settings.store_command:
                from wattprint.run.redact import redact_command

                command = redact_command(command)
            else:
                command = None
        return {"command": command, "exit_code": self.exit_code, "config_fingerprint": self.config_fingerprint}

    @property
    def record_extra(self) -> dict[str, Any]:
        """Data of the stored run without a column of its own: predictions, the budget, what was fingerprinted."""
        monitor = self._monitor
        extra = monitor.record() if monitor is not None else {}
        if self._fingerprint_parts:
            extra["fingerprint"] = self._fingerprint_parts
        if self.parent_run is not None:
            extra["parent_run"] = self.parent_run
        if self._part is not None:
            from dataclasses import asdict

            extra["group"] = asdict(self._part.record)
        return extra

    def request_records(self, run_id: str, *, changed_only: bool) -> list[RequestIntervalRecord]:
        """What the store keeps of run ``run_id``'s requests: its sums per time bucket and endpoint changed since
        the last call (or all), the steady-state rows once it has stopped (docs/inference.md)."""
        from wattprint.run.requests import request_records

        return request_records(self, run_id, changed_only=changed_only)

    def wait_saved(self, timeout: float | None = 30.0) -> bool:
        """Wait until the last run has been written to the store (or spooled), re-priced if a live value came after
        its end (docs/live.md); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        repricing = self._repricing
        if repricing is not None and not repricing.wait(timeout):
            return False
        recorder = self._recorder
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return True if recorder is None else recorder.saved.wait(remaining)
