"""Budgets on a run group in plain PyTorch: every rank stops together (docs/distributed.md).

Each part of a group measures only what it owns, so no single part sees the group's whole energy, and a rank that
left the loop alone would hang the others at their next collective. :func:`stop_together` is one ``all_reduce``
over the default process group: the group stops when any part's budget policy says stop, or when the energy (and
emissions) the parts have spent so far, summed, exceed the run's budget. Call it at the same point of every rank's
loop (every step, or every few), as Lightning's and transformers' callbacks do for you.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.run.tracker import Tracker


def stop_together(run: Tracker, process_group: Any = None) -> bool:
    """Whether every rank should stop now: the same answer on every rank of ``process_group`` (default: the
    default group). Without an initialised ``torch.distributed``, the run's own ``should_stop``."""
    import torch.distributed as dist

    local = bool(run.should_stop)
    if not (dist.is_available() and dist.is_initialized()):
        return local
    import torch

    energy_j = emissions_g = 0.0
    if run.running and run.budget.active:
        try:
            now = run.snapshot()
            energy_j, emissions_g = now.energy_j, now.emissions_g or 0.0
        except Exception:  # noqa: BLE001 - a failed reading must not stop, nor desynchronise, the ranks
            from wattprint import _log

            _log.debug("stop_together: no snapshot", exc_info=True)
    backend = dist.get_backend(process_group)
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    values = torch.tensor([1.0 if local else 0.0, energy_j, emissions_g], dtype=torch.float64, device=device)
    dist.all_reduce(values, op=dist.ReduceOp.SUM, group=process_group)
    flags, group_energy_j, group_emissions_g = (float(v) for v in values.tolist())
    return flags > 0 or _over(run, group_energy_j, group_emissions_g)


def any_rank(flag: bool, process_group: Any = None) -> bool:
    """True on every rank when ``flag`` is true on any of them (False without an initialised process group)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return flag
    import torch

    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend(process_group) == "nccl" \
        else torch.device("cpu")
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX, group=process_group)
    return bool(value.item() > 0)


def _over(run: Tracker, energy_j: float, emissions_g: float) -> bool:
    """Whether the group's spending so far exceeds the run's budget under a ``stop`` policy."""
    from wattprint.core.units import J_PER_KWH

    budget = run.budget
    if budget.policy != "stop":
        return False
    if budget.energy_kwh is not None and energy_j / J_PER_KWH > budget.energy_kwh:
        return True
    return budget.emissions_g is not None and emissions_g > budget.emissions_g


def framework_group(framework: str, *, rank: int, local_rank: int | None, world_size: int,
                    local_world_size: int | None = None, node_rank: int | None = None,
                    node_count: int | None = None) -> Any:
    """The run group of a framework's distributed training (a ``GroupRecord``), None for a single process.

    A launcher the environment names (torchrun, SLURM, MPI) gives the group; else the framework's own ranks do,
    keyed by the rendezvous address every rank shares and, on one node, the process that started the others
    (local rank 0 itself, or the parent of the others, as Lightning's ``ddp`` starts them)."""
    import os

    from wattprint.run.launchers import detect, job_key

    if world_size <= 1:
        return None
    found = detect()
    if found is not None and found.world_size == world_size:
        return found
    from wattprint.api.records import GroupRecord

    nodes = node_count if node_count is not None else (
        world_size // local_world_size if local_world_size else None)
    starter = None
    if nodes == 1:
        import psutil

        try:
            process = psutil.Process(os.getpid() if local_rank == 0 else os.getppid())
            starter = f"{process.pid}@{process.create_time():.3f}"
        except psutil.Error:
            starter = None
    key = job_key(framework, os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT"), starter)
    return GroupRecord(group_id=key, launcher=framework, rank=rank, local_rank=local_rank, world_size=world_size,
                       local_world_size=local_world_size, node_rank=node_rank, node_count=nodes)
