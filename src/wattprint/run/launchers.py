"""Distributed launchers read from the environment: which rank of which job this process is (issue 19).

Each launcher (torchrun/torchelastic, MPI, SLURM) is an entry of one registry, asked in order; the first that
recognises the environment gives the process's :class:`~wattprint.api.records.GroupRecord`. The order settles the
traps: torchrun started once per node by SLURM leaves ``SLURM_PROCID`` as the node's index, so torchrun is asked
first; ``mpirun`` inside an ``sbatch`` script sees SLURM's batch step, so MPI comes before SLURM; and an ``sbatch``
script that runs Python without ``srun`` is one process, whatever ``SLURM_NTASKS`` says. TensorFlow's ``TF_CONFIG``
(Keras multi-worker training) is read too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from wattprint.core.plugins import Registry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.api.records import GroupRecord

ENTRY_POINT_GROUP = "wattprint.launchers"
SLURM_BATCH_STEPS = frozenset({"batch", "extern", "4294967294", "4294967295"})
"""Step ids of an ``sbatch`` script itself (and of SLURM's external step): not tasks ``srun`` started."""


@dataclass(frozen=True)
class Launcher:
    """One launcher: ``detect(environ)`` returns this process's place in its job, or None when it did not start it."""

    name: str
    detect: Callable[[Mapping[str, str]], GroupRecord | None]


def job_key(*parts: object) -> str:
    """The group id made from a launcher's ids: short, the same in every rank, readable prefix."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"{parts[0]}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _record(**fields: Any) -> GroupRecord:
    from wattprint.api.records import GroupRecord  # on first use: the records are not on a plain run's import path

    return GroupRecord(**fields)


def _int(environ: Mapping[str, str], *names: str) -> int | None:
    """The first of ``names`` set to a whole number (None when none is)."""
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            try:
                return int(value)
            except ValueError:
                continue
    return None


def tasks_per_node(value: str | None) -> list[int] | None:
    """SLURM's compressed task counts, ``4(x2),3`` -> ``[4, 4, 3]`` (None when the value cannot be read)."""
    if not value or not value.strip():
        return None
    counts: list[int] = []
    for item in value.split(","):
        match = re.fullmatch(r"\s*(\d+)(?:\(x(\d+)\))?\s*", item)
        if match is None:
            return None
        counts += [int(match.group(1))] * int(match.group(2) or 1)
    return counts


def _torchrun(environ: Mapping[str, str]) -> GroupRecord | None:
    """torchrun / torch.distributed.run (torchelastic): its agent sets ``TORCHELASTIC_RUN_ID`` in every worker."""
    run_id = environ.get("TORCHELASTIC_RUN_ID")
    if run_id is None or _int(environ, "RANK") is None:
        return None
    world = _int(environ, "WORLD_SIZE")
    local_world = _int(environ, "LOCAL_WORLD_SIZE")
    nodes = _int(environ, "GROUP_WORLD_SIZE")
    if nodes is None and world and local_world:
        nodes = max(1, world // local_world)
    slurm_job = environ.get("SLURM_JOB_ID") or None
    if run_id.strip() in ("", "none"):
        # A static rendezvous without --rdzv-id: the master's address is what every node shares. On one node the
        # agent (every worker's parent) and its start also tell this launch from the next on the same port.
        agent = _agent(environ) if nodes == 1 else None
        key = job_key("torchrun", slurm_job, environ.get("SLURM_STEP_ID"), environ.get("MASTER_ADDR"),
                      environ.get("MASTER_PORT"), agent)
    else:
        key = job_key("torchrun", slurm_job, run_id)
    return _record(
        group_id=key, launcher="torchrun", rank=_int(environ, "RANK"), local_rank=_int(environ, "LOCAL_RANK"),
        world_size=world, local_world_size=local_world, node_rank=_int(environ, "GROUP_RANK"), node_count=nodes,
        attempt=_int(environ, "TORCHELASTIC_RESTART_COUNT") or 0, job_id=slurm_job,
    )


def _agent(environ: Mapping[str, str]) -> str | None:
    """The process's parent (torchrun's agent, mpiexec's proxy) as pid and start time; None when unreadable."""
    import os

    if environ is not os.environ:
        return environ.get("WATTPRINT_TEST_AGENT")  # recorded environments: no live parent to read
    try:
        import psutil

        parent = psutil.Process(os.getppid())
        return f"{parent.pid}@{parent.create_time():.3f}"
    except Exception:  # noqa: BLE001 - best effort: the address alone still groups the ranks
        return None


def _mpi(environ: Mapping[str, str]) -> GroupRecord | None:
    """Open MPI (``OMPI_COMM_WORLD_*``), MPICH/Hydra and Intel MPI (``PMI_RANK``, ``MPI_LOCALRANKID``), PMIx."""
    rank = _int(environ, "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK")
    if rank is None:
        return None
    world = _int(environ, "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE")
    local_rank = _int(environ, "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "PMI_LOCAL_RANK",
                      "PMIX_LOCAL_RANK")
    local_world = _int(environ, "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE",
                       "PMIX_LOCAL_SIZE")
    node_rank = _int(environ, "OMPI_COMM_WORLD_NODE_RANK", "PMIX_NODE_RANK")
    nodes = max(1, world // local_world) if world and local_world and world % local_world == 0 else None
    job = (environ.get("OMPI_MCA_ess_base_jobid") or environ.get("PMIX_NAMESPACE") or environ.get("PMI_KVSNAME")
           or environ.get("PMI_JOBID") or environ.get("HYDI_CONTROL_FD") or environ.get("PMI_PORT"))
    slurm_job = environ.get("SLURM_JOB_ID") or None
    if job is None and slurm_job is None:
        job = _agent(environ)  # mpiexec on this node: multi-node jobs without a job id need group= (documented)
    return _record(
        group_id=job_key("mpi", slurm_job, job), launcher="mpi", rank=rank, local_rank=local_rank, world_size=world,
        local_world_size=local_world, node_rank=node_rank, node_count=nodes, job_id=slurm_job,
    )


def _slurm(environ: Mapping[str, str]) -> GroupRecord | None:
    """A task ``srun`` started (``SLURM_STEP_ID``, ``SLURM_PROCID``, ...), or an ``sbatch`` script run as one
    process (its batch step: one part, whatever ``SLURM_NTASKS`` asks for)."""
    job = environ.get("SLURM_JOB_ID") or environ.get("SLURM_JOBID")
    if not job:
        return None
    step = environ.get("SLURM_STEP_ID") or environ.get("SLURM_STEPID")
    if step is None or step in SLURM_BATCH_STEPS or _int(environ, "SLURM_PROCID") is None:
        return _record(group_id=job_key("slurm", job, "batch"), launcher="slurm", rank=0, local_rank=0,
                           world_size=1, local_world_size=1, node_rank=0, node_count=1, job_id=job)
    node_rank = _int(environ, "SLURM_NODEID")
    counts = tasks_per_node(environ.get("SLURM_STEP_TASKS_PER_NODE") or environ.get("SLURM_TASKS_PER_NODE")
                            or environ.get("SLURM_NTASKS_PER_NODE"))
    local_world = None
    if counts is not None and node_rank is not None and node_rank < len(counts):
        local_world = counts[node_rank]
    elif counts is not None and len(counts) == 1:
        local_world = counts[0]
    nodes = _int(environ, "SLURM_STEP_NUM_NODES", "SLURM_NNODES", "SLURM_JOB_NUM_NODES")
    world = _int(environ, "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS", "SLURM_NPROCS")
    if world is None and counts is not None:
        world = sum(counts)
    return _record(
        group_id=job_key("slurm", job, step), launcher="slurm", rank=_int(environ, "SLURM_PROCID"),
        local_rank=_int(environ, "SLURM_LOCALID"), world_size=world, local_world_size=local_world,
        node_rank=node_rank, node_count=nodes, attempt=_int(environ, "SLURM_RESTART_COUNT") or 0, job_id=job,
    )


def _tf_config(environ: Mapping[str, str]) -> GroupRecord | None:
    """TensorFlow's multi-worker ``TF_CONFIG`` (Keras ``MultiWorkerMirroredStrategy``): one process per task, the
    chief first; local ranks are not given, so the node's leader is chosen by lock file."""
    import json

    text = environ.get("TF_CONFIG")
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        roles = [role for role in ("chief", "worker") if cluster.get(role)]
        order = [(role, index) for role in roles for index in range(len(cluster[role]))]
        rank = order.index((task["type"], int(task["index"])))
        addresses = [address for role in roles for address in cluster[role]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # an evaluator or parameter server, or a TF_CONFIG that is not a multi-worker one
    hosts = {str(address).rsplit(":", 1)[0] for address in addresses}
    slurm_job = environ.get("SLURM_JOB_ID") or None
    return _record(
        group_id=job_key("tensorflow", slurm_job, *addresses), launcher="tensorflow", rank=rank,
        world_size=len(order), node_count=len(hosts), job_id=slurm_job,
    )


def _check(item: object, others: Sequence[Launcher]) -> str | None:
    if not isinstance(item, Launcher):
        return f"is a {type(item).__name__}, not a wattprint.run.launchers.Launcher"
    if any(other.name == item.name for other in others):
        return f"its name {item.name!r} is used already"
    return None


BUILT_IN = (Launcher("torchrun", _torchrun), Launcher("mpi", _mpi), Launcher("tensorflow", _tf_config),
            Launcher("slurm", _slurm))
REGISTRY: Registry[Launcher] = Registry("launcher", ENTRY_POINT_GROUP, {item.name: item for item in BUILT_IN},
                                        _check)


def detect(environ: Mapping[str, str] | None = None) -> GroupRecord | None:
    """This process's place in its distributed job, from the first launcher that recognises ``environ`` (the
    process's environment by default); None outside any launcher."""
    import os

    environ = os.environ if environ is None else environ
    for launcher in REGISTRY.all():
        found = launcher.detect(environ)
        if found is not None:
            return found
    return None
