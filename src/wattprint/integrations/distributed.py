"""Budgets on a run group in plain PyTorch: every rank stops together (docs/distributed.md).

Each part of a group measures only what it owns, so no single part sees the group's whole energy, and a rank that
left the loop alone would hang the others at their next collective. :func:`stop_together` is one ``all_reduce``
over the default process group: the group stops when any part's budget policy says stop, or when the energy (and
emissions) the parts have spent so far, or the sum of their predicted totals, exceed the run's budget. Call it at
the same point of every rank's loop (every step, or every few), as Lightning's and transformers' callbacks do.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.run.tracker import Tracker


def stop_together(run: Tracker, process_group: Any = None) -> bool:
    """Whether every rank should stop now: the same answer on every rank of ``process_group`` (default: the
    default group). Without an initialised ``torch.distributed``, the run's own ``should_stop``."""
    return group_decision(run, bool(run.should_stop), process_group)


def group_decision(run: Tracker | None, stop: bool, process_group: Any = None) -> bool:
    """``stop`` agreed by every rank (one ``all_reduce``): true when any rank says stop, or when the group's
    spending so far or, once every part has one, the sum of the parts' predicted totals exceeds the run's budget
    under a ``stop`` policy. ``run`` None (a rank not tracking) joins with nothing spent and no budget. Every rank
    decides from the same sums, so every rank gets the same answer. Without an initialised ``torch.distributed``:
    ``stop``."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return stop
    import torch

    values = [1.0 if stop else 0.0, *_part_figures(run), *_stop_limits(run)]
    backend = dist.get_backend(process_group)
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    summed = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(summed, op=dist.ReduceOp.SUM, group=process_group)
    (flags, spent_kwh, spent_g, predicted_kwh, predicted_g, predicting,
     kwh_limits, kwh_limited, g_limits, g_limited) = (float(v) for v in summed.tolist())
    if flags > 0:
        return True
    from wattprint.predict.budget import Budget

    # the run's budget: the same in every part that has one (their mean, should they differ)
    budget = Budget(energy_kwh=kwh_limits / kwh_limited if kwh_limited else None,
                    emissions_g=g_limits / g_limited if g_limited else None, policy="stop")
    if group_exceeds(budget, spent_kwh, spent_g):
        return True
    return predicting >= dist.get_world_size(process_group) and group_exceeds(budget, predicted_kwh, predicted_g)


def group_exceeds(budget: Any, energy_kwh: float, emissions_g: float) -> bool:
    """Whether a group's summed energy (kWh) or emissions (g) exceed ``budget`` (a ``predict.Budget``) under its
    ``stop`` policy."""
    if budget.policy != "stop":
        return False
    if budget.energy_kwh is not None and energy_kwh > budget.energy_kwh:
        return True
    return budget.emissions_g is not None and emissions_g > budget.emissions_g


def _stop_limits(run: Tracker | None) -> tuple[float, float, float, float]:
    """This part's budget under a ``stop`` policy, for the group's sums: (kWh, 1, g, 1), zeros where none."""
    if run is None or not run.budget.active or run.budget.policy != "stop":
        return (0.0, 0.0, 0.0, 0.0)
    energy_kwh, emissions_g = run.budget.energy_kwh, run.budget.emissions_g
    return (energy_kwh or 0.0, 0.0 if energy_kwh is None else 1.0, emissions_g or 0.0,
            0.0 if emissions_g is None else 1.0)


def _part_figures(run: Tracker | None) -> tuple[float, float, float, float, float]:
    """This part's (spent kWh, spent g, predicted kWh, predicted g, 1 if it has a prediction else 0) for the
    group's sums; a prediction on the budget's basis (upper bound or central value)."""
    from wattprint.core.units import J_PER_KWH

    if run is None or not run.running or not run.budget.active:
        return (0.0, 0.0, 0.0, 0.0, 0.0)
    try:
        now = run.snapshot()
    except Exception:  # noqa: BLE001 - a failed reading must not stop, nor desynchronise, the ranks
        from wattprint import _log

        _log.debug("group_decision: no snapshot", exc_info=True)
        return (0.0, 0.0, 0.0, 0.0, 0.0)
    spent_kwh, spent_g = now.energy_j / J_PER_KWH, now.emissions_g or 0.0
    prediction = run.prediction
    if prediction is None:
        return (spent_kwh, spent_g, spent_kwh, spent_g, 0.0)
    basis = run.budget.basis
    predicted_kwh = prediction.bound("energy_kwh", basis)
    predicted_g = prediction.bound("emissions_g", basis)
    return (spent_kwh, spent_g, spent_kwh if predicted_kwh is None else predicted_kwh,
            spent_g if predicted_g is None else predicted_g, 1.0)


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
