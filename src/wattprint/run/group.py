"""A tracker's part in a run group (a distributed run): its place, whether it leads its node, what it measures.

On each node one part, the leader (local rank 0, or the first to take a lock file where local ranks are unknown),
measures the machine-wide components (CPU, RAM: everything but GPUs); every part measures its own GPUs (its
``CUDA_VISIBLE_DEVICES``, or the one at its local rank when all ranks see all GPUs). With ``attribution =
"process"`` each part measures its own process tree's share of everything, so nothing is dropped: the shares do
not overlap. What a part does not measure is left out of its snapshots, so every figure of the part agrees.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping

from wattprint.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

    from wattprint.api.records import GroupRecord
    from wattprint.core.methods import DeviceInfo
    from wattprint.measure.meter import Snapshot
    from wattprint.sensors.base import SensorMeta

LOCK_DIR_VARIABLE = "WATTPRINT_GROUP_LOCK_DIR"
"""Where the node's leader lock files go (default: the temporary directory); must be local to the node."""
_GROUP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$")


def check_group(value: object) -> str | GroupRecord | None:
    """The ``group=`` option: a group id (letters, digits and ``._:@+=-``, at most 128), a GroupRecord, or None."""
    from wattprint.api.records import GroupRecord

    if value is None or isinstance(value, GroupRecord):
        if isinstance(value, GroupRecord):
            check_group(value.group_id)
        return value
    if not isinstance(value, str) or not _GROUP_ID.match(value):
        from wattprint.settings.hints import docs

        raise ConfigError(
            f"group must be a group id (1 to 128 letters, digits and . _ : @ + = -, starting with a letter or digit), "
            f"a wattprint.api.records.GroupRecord or None, got {value!r}; every rank of the job must give the same "
            f"one ({docs('distributed')})"
        )
    return value


def resolve(option: str | GroupRecord | None, environ: Mapping[str, str] | None = None) -> GroupRecord | None:
    """The group this process's runs are parts of: ``group=`` when given (a bare id keeps the launcher's ranks),
    else the launcher's (None outside any launcher, or when the launcher started a single process)."""
    from wattprint.run.launchers import detect

    if option is not None and not isinstance(option, str):
        return option
    found = detect(environ)
    if option is not None:
        if found is None:
            from wattprint.api.records import GroupRecord


            return GroupRecord(group_id=option, launcher="explicit")
        return dataclasses.replace(found, group_id=option)
    if found is None or (found.world_size == 1 and found.launcher != "torchrun"):
        return None  # an sbatch script run as one process, mpirun -n 1: a plain run
    return found


class GroupPart:
    """This process's part in its group while a run measures: the record stored with it, the leader lock it holds,
    and the filter of what it measures (:meth:`scope`)."""

    def __init__(self, record: GroupRecord, attribution: str, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.attribution = attribution
        self.notes: list[str] = []
        self._lock: IO[bytes] | None = None
        self._gpus: frozenset[str] | None = None
        self._cache: tuple[Mapping[str, SensorMeta], int, dict[str, SensorMeta], list[int] | None] | None = None
        """The last snapshot layout seen (its meta, slot count) and what this part keeps of it."""
        if attribution == "process":
            leads = record.local_rank in (0, None)
            self.shared = False
        elif record.local_rank is not None:
            leads = record.local_rank == 0
            self.shared = True
        else:
            leads = self._take_lock(record)
            self.shared = True
        self.record = dataclasses.replace(record, measures_host=leads)
        if self.shared and not leads:
            self.notes.append(
                f"Part of run group {record.group_id} (rank {_text(record.rank)}): the node's CPU and RAM are "
                "measured once, by its leader; this part measures its own GPUs only."
            )

    @property
    def leads(self) -> bool:
        return self.record.measures_host

    def _take_lock(self, record: GroupRecord) -> bool:
        """Lead the node if no other part of the group holds its lock file (kept open until :meth:`close`)."""
        import fcntl
        import tempfile

        folder = self.environ.get(LOCK_DIR_VARIABLE) or tempfile.gettempdir()
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f"wattprint-group-{record.group_id}-{record.attempt}.lock")
        try:
            handle = open(os.path.join(folder, name), "ab")  # noqa: SIM115 - held for the run
        except OSError as error:
            self.notes.append(f"No leader lock file in {folder} ({error}); this part measures the node's CPU and "
                              f"RAM, which other parts on the node may count again (set {LOCK_DIR_VARIABLE}).")
            return True
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock = handle
        return True

    def close(self) -> None:
        """Let go of the leader lock (the run ended)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def keeps(self, meta: SensorMeta, metas: Mapping[str, SensorMeta]) -> bool:
        """Whether this part measures the device ``meta`` describes."""
        from wattprint.api.records import PER_RANK_COMPONENTS

        if not self.shared:
            return True
        if meta.component not in PER_RANK_COMPONENTS:
            return self.leads
        if self._gpus is None:
            self._gpus = self._own(sorted({m.device for m in metas.values() if m.component in PER_RANK_COMPONENTS},
                                          key=_position))
        return meta.device in self._gpus

    def _own(self, devices: list[str]) -> frozenset[str]:
        """This rank's GPUs among those it sees: a block per local rank when all ranks see all of them; all of them
        when it sees fewer than there are local ranks (the launcher gave each rank its own); else the leader's."""
        count, record = len(devices), self.record
        local_rank, local_world = record.local_rank, record.local_world_size
        if count == 0:
            return frozenset()
        if local_rank is not None and local_world and count % local_world == 0:
            each = count // local_world
            return frozenset(devices[local_rank * each:(local_rank + 1) * each])
        if self.environ.get("CUDA_VISIBLE_DEVICES") and local_world and count < local_world:
            return frozenset(devices)
        return frozenset(devices) if self.leads else frozenset()

    def scope(self, snap: Snapshot) -> Snapshot:
        """``snap`` without the slots of devices this part does not measure (``snap`` itself when it keeps all).

        Slots only grow, and the filter is fixed per device, so the kept slots of two snapshots line up as the
        meter's own do."""
        if not self.shared:
            return snap
        from wattprint.measure.meter import Snapshot

        meta, count = snap.meta, len(snap.values)
        cached = self._cache
        if cached is not None and cached[0] is meta and cached[1] == count:
            kept, indices = cached[2], cached[3]
        else:  # the meter's sensors or slots changed (rarely): work out what this part keeps again
            kept = {key: m for key, m in meta.items() if self.keeps(m, meta)}
            indices = None if len(kept) == len(meta) else [
                i for i, (key, _) in enumerate(snap.slots[:count]) if key in kept]
            self._cache = (meta, count, kept, indices)
        if indices is None:
            return snap
        return Snapshot(snap.t_monotonic, snap.wall_time, tuple(snap.values[i] for i in indices),
                        [snap.slots[i] for i in indices], kept)

    def hardware(self, infos: list[DeviceInfo], snap: Snapshot) -> list[DeviceInfo]:
        """The devices this part measures, of those its meter lists."""
        if not self.shared:
            return infos
        devices = {(m.component, m.device) for m in self.scope(snap).meta.values()}
        return [info for info in infos if (info.component, info.device) in devices]


def _position(device: str) -> tuple[int, str]:
    head, _, tail = device.rpartition(":")
    return (int(tail), head) if tail.isdigit() else (1 << 30, device)


def _text(value: int | None) -> str:
    return "?" if value is None else str(value)
