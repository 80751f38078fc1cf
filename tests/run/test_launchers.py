"""Launchers read from recorded environments (torchrun, SLURM, Open MPI, MPICH/Hydra, PMIx, TF_CONFIG), traps too."""

from __future__ import annotations

import json

import pytest

from wattprint.api.records import GroupRecord
from wattprint.core.errors import ConfigError
from wattprint.run.group import GroupPart, check_group, resolve
from wattprint.run.launchers import detect, tasks_per_node

TORCHRUN = {  # rank 5 of torchrun --nnodes 2 --nproc_per_node 4 --rdzv-id job42, second node, after one restart
    "RANK": "5", "LOCAL_RANK": "1", "WORLD_SIZE": "8", "LOCAL_WORLD_SIZE": "4", "GROUP_RANK": "1",
    "GROUP_WORLD_SIZE": "2", "ROLE_RANK": "5", "TORCHELASTIC_RUN_ID": "job42", "TORCHELASTIC_RESTART_COUNT": "1",
    "TORCHELASTIC_MAX_RESTARTS": "3", "MASTER_ADDR": "node01", "MASTER_PORT": "29500",
}
SLURM_SRUN = {  # task 6 of srun -N 2 --ntasks-per-node 4 in job 7001, step 0, on the second node
    "SLURM_JOB_ID": "7001", "SLURM_STEP_ID": "0", "SLURM_PROCID": "6", "SLURM_LOCALID": "2", "SLURM_NODEID": "1",
    "SLURM_NTASKS": "8", "SLURM_NNODES": "2", "SLURM_TASKS_PER_NODE": "4(x2)", "SLURM_STEP_TASKS_PER_NODE": "4(x2)",
    "SLURM_NTASKS_PER_NODE": "4", "SLURM_JOB_NUM_NODES": "2",
}


def test_torchrun() -> None:
    found = detect(TORCHRUN)
    assert found == GroupRecord(group_id=found.group_id, launcher="torchrun", rank=5, local_rank=1, world_size=8,
                                local_world_size=4, node_rank=1, node_count=2, attempt=1)
    other = detect({**TORCHRUN, "RANK": "0", "LOCAL_RANK": "0", "GROUP_RANK": "0", "TORCHELASTIC_RESTART_COUNT": "0"})
    assert other.group_id == found.group_id  # every rank and attempt: one group
    assert detect({**TORCHRUN, "TORCHELASTIC_RUN_ID": "job43"}).group_id != found.group_id


def test_torchrun_without_rendezvous_id_keys_on_master_and_agent() -> None:
    """A static rendezvous leaves TORCHELASTIC_RUN_ID='none': the master's address keys the job, and on one node
    the agent (the workers' parent) tells one launch from the next on the same port."""
    one_node = {"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": "0",
                "GROUP_WORLD_SIZE": "1", "TORCHELASTIC_RUN_ID": "none", "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": "29500", "WATTPRINT_TEST_AGENT": "100@1.0"}
    first = detect(one_node)
    assert first.group_id == detect({**one_node, "RANK": "0", "LOCAL_RANK": "0"}).group_id
    assert first.group_id != detect({**one_node, "WATTPRINT_TEST_AGENT": "200@2.0"}).group_id
    assert first.group_id != detect({**one_node, "MASTER_PORT": "29501"}).group_id
    assert first.node_count == 1


def test_torchrun_under_slurm_wins() -> None:
    """One torchrun per node under SLURM: SLURM_PROCID is the node's index, not the rank; torchrun's ids win, and
    the SLURM job id is kept."""
    environ = {**SLURM_SRUN, "SLURM_PROCID": "1", "SLURM_LOCALID": "0", "SLURM_NTASKS": "2",
               "SLURM_TASKS_PER_NODE": "1(x2)", "SLURM_STEP_TASKS_PER_NODE": "1(x2)", **TORCHRUN}
    found = detect(environ)
    assert (found.launcher, found.rank, found.local_rank, found.node_rank, found.job_id) == ("torchrun", 5, 1, 1,
                                                                                             "7001")


def test_slurm_srun() -> None:
    found = detect(SLURM_SRUN)
    assert found == GroupRecord(group_id=found.group_id, launcher="slurm", rank=6, local_rank=2, world_size=8,
                                local_world_size=4, node_rank=1, node_count=2, job_id="7001")
    assert detect({**SLURM_SRUN, "SLURM_PROCID": "0", "SLURM_LOCALID": "0"}).group_id == found.group_id
    assert detect({**SLURM_SRUN, "SLURM_STEP_ID": "1"}).group_id != found.group_id  # each srun step is a job


def test_slurm_uneven_tasks_per_node() -> None:
    environ = {**SLURM_SRUN, "SLURM_TASKS_PER_NODE": "3,2(x2)", "SLURM_STEP_TASKS_PER_NODE": "3,2(x2)",
               "SLURM_NODEID": "2", "SLURM_NTASKS": "7", "SLURM_NNODES": "3"}
    assert detect(environ).local_world_size == 2
    assert tasks_per_node("4(x2)") == [4, 4]
    assert tasks_per_node("2(x3),1") == [2, 2, 2, 1]
    assert tasks_per_node("4") == [4]
    assert tasks_per_node("four") is None


def test_sbatch_without_srun_is_one_process() -> None:
    """The batch script itself: one process on the first node, whatever SLURM_NTASKS asks for."""
    environ = {"SLURM_JOB_ID": "7002", "SLURM_NTASKS": "8", "SLURM_NNODES": "2", "SLURM_TASKS_PER_NODE": "4(x2)",
               "SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_NODEID": "0"}
    found = detect(environ)
    assert (found.launcher, found.world_size, found.node_count, found.job_id) == ("slurm", 1, 1, "7002")
    assert detect({**environ, "SLURM_STEP_ID": "4294967294"}).world_size == 1
    assert resolve(None, environ) is None  # a plain run, not a group of one


def test_open_mpi_under_sbatch_wins_over_slurm() -> None:
    environ = {"SLURM_JOB_ID": "7003", "SLURM_NTASKS": "4", "OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "4",
               "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_LOCAL_SIZE": "2", "OMPI_COMM_WORLD_NODE_RANK": "1",
               "OMPI_MCA_ess_base_jobid": "123456"}
    found = detect(environ)
    assert found == GroupRecord(group_id=found.group_id, launcher="mpi", rank=3, local_rank=1, world_size=4,
                                local_world_size=2, node_rank=1, node_count=2, job_id="7003")


def test_mpich_hydra_and_pmix() -> None:
    hydra = detect({"PMI_RANK": "2", "PMI_SIZE": "4", "MPI_LOCALRANKID": "0", "MPI_LOCALNRANKS": "2",
                    "PMI_KVSNAME": "kvs_99_0"})
    assert (hydra.launcher, hydra.rank, hydra.local_rank, hydra.world_size, hydra.node_count) == ("mpi", 2, 0, 4, 2)
    pmix = detect({"PMIX_RANK": "1", "PMIX_NAMESPACE": "prterun-n1-77@1", "PMIX_LOCAL_RANK": "1",
                   "PMIX_LOCAL_SIZE": "2", "PMI_SIZE": "2"})
    assert (pmix.rank, pmix.local_rank, pmix.local_world_size) == (1, 1, 2)


def test_nothing_outside_a_launcher() -> None:
    assert detect({"PATH": "/usr/bin", "RANK": "3"}) is None
    assert resolve(None, {}) is None


def test_explicit_group_overrides() -> None:
    assert resolve("my-job", {}) == GroupRecord(group_id="my-job", launcher="explicit")
    kept = resolve("my-job", TORCHRUN)
    assert (kept.group_id, kept.launcher, kept.rank) == ("my-job", "torchrun", 5)
    record = GroupRecord(group_id="given", launcher="explicit", rank=1, local_rank=1)
    assert resolve(record, TORCHRUN) is record


@pytest.mark.parametrize("bad", ["", "has space", "-leading", "x" * 129, 12, ["a"]])
def test_bad_group_names_the_option(bad: object) -> None:
    with pytest.raises(ConfigError, match="group must be a group id"):
        check_group(bad)


def test_bad_group_fails_at_the_tracker() -> None:
    import wattprint

    with pytest.raises(ConfigError, match="group must be"):
        wattprint.Tracker(group="no spaces please", store="off")


class _Meta:
    def __init__(self, component: str, device: str) -> None:
        self.component, self.device = component, device


def _kept(part: GroupPart, devices: list[tuple[str, str]]) -> list[str]:
    metas = {f"{c}/{d}": _Meta(c, d) for c, d in devices}
    return [m.device for m in metas.values() if part.keeps(m, metas)]  # type: ignore[arg-type]


MACHINE = [("cpu", "package-0"), ("ram", "dram-0"), ("gpu", "gpu:0"), ("gpu", "gpu:1"), ("gpu", "gpu:2"),
           ("gpu", "gpu:3")]


def test_leader_measures_the_host_each_rank_its_gpu() -> None:
    leader = GroupPart(GroupRecord(group_id="g", launcher="torchrun", local_rank=0, local_world_size=4), "machine", {})
    other = GroupPart(GroupRecord(group_id="g", launcher="torchrun", local_rank=2, local_world_size=4), "machine", {})
    assert leader.leads and not other.leads
    assert _kept(leader, MACHINE) == ["package-0", "dram-0", "gpu:0"]
    assert _kept(other, MACHINE) == ["gpu:2"]
    pairs = GroupPart(GroupRecord(group_id="g", launcher="slurm", local_rank=1, local_world_size=2), "machine", {})
    assert _kept(pairs, MACHINE) == ["gpu:2", "gpu:3"]  # two GPUs a rank (model parallel)


def test_rank_with_its_own_visible_gpu_keeps_it() -> None:
    part = GroupPart(GroupRecord(group_id="g", launcher="slurm", local_rank=3, local_world_size=4), "machine",
                     {"CUDA_VISIBLE_DEVICES": "3"})
    assert _kept(part, [("cpu", "package-0"), ("gpu", "gpu:0")]) == ["gpu:0"]


def test_process_attribution_keeps_everything() -> None:
    part = GroupPart(GroupRecord(group_id="g", launcher="torchrun", local_rank=2, local_world_size=4), "process", {})
    assert _kept(part, MACHINE) == [d for _, d in MACHINE]
    assert not part.notes


def test_lock_file_elects_one_leader_where_local_ranks_are_unknown(tmp_path) -> None:  # type: ignore[no-untyped-def]
    environ = {"WATTPRINT_GROUP_LOCK_DIR": str(tmp_path)}
    record = GroupRecord(group_id="mpi-x", launcher="mpi", rank=0)
    first = GroupPart(record, "machine", environ)
    second = GroupPart(record, "machine", environ)
    assert first.leads and not second.leads
    first.close()
    third = GroupPart(record, "machine", environ)  # the leader's run ended: the next part leads
    assert third.leads
    third.close()
    second.close()


def test_tf_config_multi_worker() -> None:
    """Keras MultiWorkerMirroredStrategy: the chief is rank 0; an evaluator is no part of the group."""
    cluster = {"chief": ["n1:2222"], "worker": ["n1:2223", "n2:2222"]}
    worker = detect({"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})})
    chief = detect({"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "chief", "index": 0}})})
    assert (worker.launcher, worker.rank, worker.world_size, worker.node_count, worker.local_rank) == (
        "tensorflow", 2, 3, 2, None)
    assert chief.rank == 0 and chief.group_id == worker.group_id
    assert detect({"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "evaluator", "index": 0}})}) is None
    assert detect({"TF_CONFIG": "not json"}) is None
