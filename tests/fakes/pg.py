"""Store test helpers: a throwaway PostgreSQL cluster, record factories, and scenarios both databases run.

The PostgreSQL fixtures start a real server from the installed binaries (``initdb``, ``pg_ctl``) on a free
loopback port, as the ``postgres`` user when the tests run as root, and remove it afterwards. Set
``WATTPRINT_TEST_POSTGRES_URL`` (an admin URL such as ``postgresql://postgres@127.0.0.1:5432/postgres``) to
use a server you already run instead, and ``WATTPRINT_TEST_PG_BIN`` to pick the binaries' directory.

Run as a script, this module is a store writer for the concurrency tests (``python pg.py write ...``).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from wattprint.api.records import ComponentRecord, IntervalRecord, RunExtra, RunRecord, TaskRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.store.runstore import RunStore

HERE = Path(__file__).resolve().parent
HOSTNAME = os.uname().nodename

# -- records ---------------------------------------------------------------------------------------------------


def run_id(worker: int, index: int, salt: int = 0) -> str:
    """A valid, time-ordered-looking run id that says who wrote it."""
    return f"{0x018F00000000 + index:012x}{worker:08x}{salt:012x}"


def make_run(rid: str, **changes: object) -> RunRecord:
    values: dict[str, object] = dict(
        run_id=rid,
        project="mnist",
        name="baseline",
        status="finished",
        started_at=1_760_000_000.125,
        updated_at=time.time(),
        ended_at=1_760_000_100.5,
        duration_s=100.375,
        energy_j=12_345.678,
        energy_uncertainty_rel=0.05,
        attribution="machine",
        hostname=HOSTNAME,
        username="tester",
        pid=os.getpid(),
        wattprint_version="0.1.0",
    )
    values.update(changes)
    return RunRecord(**values)


def make_components() -> list[ComponentRecord]:
    return [
        ComponentRecord("cpu", "package-0", 5000.25, 49.8, "counter", 0.05),
        ComponentRecord("gpu", "gpu:0", 7000.125, 69.9, "sampled", 0.1),
        ComponentRecord("ram", "dram", 345.303, 3.44, "model", 0.5),
    ]


def make_intervals(buckets: int, devices: tuple[str, ...] = ("package-0", "gpu:0", "dram")) -> list[IntervalRecord]:
    component = {"package-0": "cpu", "gpu:0": "gpu", "dram": "ram"}
    out = []
    for bucket in range(buckets):
        for i, device in enumerate(devices):
            energy = 100.0 * (bucket + 1) + i / 3
            out.append(
                IntervalRecord(
                    bucket=bucket,
                    start_offset_s=10.0 * bucket,
                    end_offset_s=10.0 * bucket + 10.0,
                    component=component.get(device, "gpu"),
                    device=device,
                    energy_j=energy,
                    avg_power_w=energy / 10.0,
                    method="counter",
                    uncertainty_rel=0.05,
                )
            )
    return out


def make_tasks(count: int) -> list[TaskRecord]:
    return [
        TaskRecord(
            seq=i,
            name=f"epoch-{i}",
            started_at=1_760_000_000.125 + 30 * i,
            duration_s=29.5,
            energy_j=3000.5 + i,
            uncertainty_rel=0.07,
            method="counter",
            components=(
                ComponentRecord("cpu", "all", 1000.25 + i, 33.9, "counter", 0.05),
                ComponentRecord("gpu", "all", 2000.25, 67.8, "counter", 0.05),
            ),
        )
        for i in range(count)
    ]


def full_run(rid: str) -> RunRecord:
    """A run with every field set to an awkward value: carbon fields, JSON, unicode, floats that must stay exact."""
    return make_run(
        rid,
        project="projekt-ü/α",
        name="run with 'quotes' and \"doubles\"",
        status="failed",
        started_at=1_760_000_000.1 + 0.2,
        updated_at=1_760_000_123.987654321,
        ended_at=1_760_000_124.000001,
        duration_s=0.1 + 0.2,
        energy_j=1e-300,
        energy_uncertainty_rel=0.123456789012345,
        attribution="cgroup",
        username="ünïcode",
        pid=4_194_303,
        wattprint_version="1.2.3.dev4",
        command="python train.py --lr 3e-4 'a b'",
        exit_code=137,
        config_fingerprint="sha256:" + "ab" * 32,
        hardware=(
            {"component": "gpu", "device": "gpu:0", "model": "NVIDIA H100", "source": "nvml", "power_limit_w": 700.0,
             "detail": "MIG 1g.10gb: 1/7 of the GPU", "nested": {"list": [1, 2.5, None, "x"]}},
            {"component": "cpu", "device": "cpu", "model": None, "source": "model", "power_limit_w": None,
             "detail": ""},
        ),
        notes=("RAPL not readable: sudo chmod o+r ...", "émoji ⚡ note"),
        location="FR",
        how_located="configured (WATTPRINT_LOCATION)",
        intensity_g_per_kwh=56.04,
        intensity_zone="FR",
        intensity_source="Ember 2024",
        intensity_year=2024,
        intensity_kind="average",
        intensity_uncertainty_rel=0.15,
        pue=1.58,
        facility_energy_j=1.58e-300,
        emissions_g=2.5e-306,
        emissions_uncertainty_rel=0.16,
        water_l=0.0,
        embodied_g=1234.5678,
        extra=RunExtra(pue_source="a PUE source", carbon_notes=("a carbon note",), parent_run="f" * 32,
                       source_fields={"prediction": {"energy_j": 1e6, "interval": [9e5, 1.1e6]}, "budget": None,
                                      "flag": True}),
    )


# -- SQL helpers -----------------------------------------------------------------------------------------------


def count(store: RunStore, sql: str, **params: object) -> int:
    """A count by SQL on the store's own database (checks the rows, not what the API says)."""
    from sqlalchemy import text

    engine = store._engine
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def column_value(store: RunStore, sql: str, **params: object) -> object:
    from sqlalchemy import text

    with store._engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


# -- scenarios both databases run ------------------------------------------------------------------------------


def check_migrated_from_empty(store: RunStore) -> None:
    from sqlalchemy import inspect

    from wattprint.store import schema

    engine = store._engine
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    assert {"projects", "runs", "run_components", "intervals", "tasks", "alembic_version"} <= tables
    assert column_value(store, "SELECT version_num FROM alembic_version") == schema.HEAD_REVISION
    # the Core tables the queries use match what the migration created, column for column
    for name, table in schema.metadata.tables.items():
        created = {c["name"]: c for c in inspector.get_columns(name)}
        assert set(created) == {c.name for c in table.columns}, name
        for column in table.columns:
            assert created[column.name]["nullable"] == column.nullable, (name, column.name)
        assert set(inspector.get_pk_constraint(name)["constrained_columns"]) == {c.name for c in table.primary_key}
    # and Alembic's own comparison of the two finds nothing to migrate
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def declared(item: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
        # ix_runs_group_id indexes an expression over extra's JSON, written per dialect by migration 0004: the Core
        # tables cannot declare it, so it is checked by name below instead
        return not (kind == "index" and name == "ix_runs_group_id")

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": declared})
        assert compare_metadata(context, schema.metadata) == []
    index_names = ("SELECT name FROM sqlite_master WHERE type = 'index'" if engine.dialect.name == "sqlite"
                   else "SELECT indexname FROM pg_indexes WHERE tablename = 'runs'")
    with engine.connect() as conn:  # the inspector leaves SQLite's expression indexes out
        assert "ix_runs_group_id" in {row[0] for row in conn.exec_driver_sql(index_names)}
    assert inspector.get_pk_constraint("intervals")["constrained_columns"] == ["run_id", "bucket", "device"]
    assert inspector.get_pk_constraint("tasks")["constrained_columns"] == ["run_id", "seq"]
    indexes = {i["name"] for i in inspector.get_indexes("runs")}
    assert {"ix_runs_started_at", "ix_runs_project_started_at"} <= indexes


def check_round_trip(store: RunStore) -> None:
    rid = run_id(1, 1)
    run = full_run(rid)
    components = make_components()
    intervals = make_intervals(5)
    intervals[3] = replace(intervals[3], emissions_g=0.1 + 0.2, intensity_g_per_kwh=56.04)
    tasks = make_tasks(3)
    store.save(run, components, intervals, tasks)
    assert store.run(rid) == run
    assert store.runs() == [run]
    assert store.components(rid) == components
    assert store.intervals(rid) == sorted(intervals, key=lambda i: (i.bucket, i.device))
    assert store.tasks(rid) == tasks
    assert store.projects() == ["projekt-ü/α"]
    got = store.run(rid)
    assert got.started_at == 1_760_000_000.1 + 0.2 and got.energy_j == 1e-300 and got.emissions_g == 2.5e-306
    assert got.energy_kwh == run.energy_kwh
    assert isinstance(got.hardware, tuple) and isinstance(got.notes, tuple)
    # a run without project, name, carbon or JSON extras round-trips too
    bare = make_run(run_id(1, 2), project=None, name=None, ended_at=None, status="running")
    store.save(bare)
    assert store.run(bare.run_id) == bare
    assert store.components(bare.run_id) == [] and store.intervals(bare.run_id) == []


def check_idempotent(store: RunStore) -> None:
    rid = run_id(2, 1)
    run = make_run(rid, status="running")
    components, intervals, tasks = make_components(), make_intervals(20), make_tasks(4)

    def counts() -> tuple[int, int, int, int, int]:
        return (
            count(store, "SELECT count(*) FROM runs"),
            count(store, "SELECT count(*) FROM projects"),
            count(store, "SELECT count(*) FROM run_components WHERE run_id = :r", r=rid),
            count(store, "SELECT count(*) FROM intervals WHERE run_id = :r", r=rid),
            count(store, "SELECT count(*) FROM tasks WHERE run_id = :r", r=rid),
        )

    store.save(run, components, intervals, tasks)
    first = counts()
    assert first == (1, 1, 3, 60, 4)
    store.save(run, components, intervals, tasks)  # a retried flush
    assert counts() == first
    assert store.intervals(rid) == sorted(intervals, key=lambda i: (i.bucket, i.device))
    # a later flush: the last bucket grew, a new bucket and a new task came, totals replaced
    grown = replace(intervals[-1], energy_j=9999.0, end_offset_s=205.0)
    new_bucket = make_intervals(21)[-3:]
    later = make_run(rid, status="finished", energy_j=99_999.0)
    store.save(later, components[:2], [grown, *new_bucket], make_tasks(5)[4:])
    assert counts() == (1, 1, 2, 63, 5)
    stored = {(i.bucket, i.device): i for i in store.intervals(rid)}
    assert stored[(grown.bucket, grown.device)] == grown
    assert store.run(rid) == later
    assert store.components(rid) == components[:2]
    # empty components leave the totals alone; the same save twice is still a no-op
    store.save(later)
    store.save(later)
    assert counts() == (1, 1, 2, 63, 5)
    # records repeated within one save count once, the last one winning
    store.save(later, [components[0], components[0]], [grown, replace(grown, energy_j=1.5)], make_tasks(5)[4:] * 2)
    assert counts() == (1, 1, 1, 63, 5)
    stored = {(i.bucket, i.device): i for i in store.intervals(rid)}
    assert stored[(grown.bucket, grown.device)] == replace(grown, energy_j=1.5)
    # a second run of the same project reuses the project row
    store.save(make_run(run_id(2, 2)))
    assert count(store, "SELECT count(*) FROM projects") == 1


def dead_pid() -> int:
    """The pid of a child process that was started, killed and reaped (so it no longer exists)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    child.kill()
    child.wait()
    return child.pid


def check_killed(store: RunStore) -> None:
    now = time.time()
    alive = make_run(run_id(3, 1), status="running", pid=os.getpid(), updated_at=now, ended_at=None)
    dead = make_run(run_id(3, 2), status="running", pid=dead_pid(), updated_at=now, ended_at=None, energy_j=42.5)
    stale = make_run(run_id(3, 3), status="running", hostname="elsewhere-" + uuid.uuid4().hex, pid=1,
                     updated_at=now - 16 * 60, ended_at=None, energy_j=7.25)
    remote = make_run(run_id(3, 4), status="running", hostname="elsewhere-" + uuid.uuid4().hex, pid=1,
                      updated_at=now - 60, ended_at=None)
    done = make_run(run_id(3, 5), status="finished", pid=dead_pid())
    for run in (alive, dead, stale, remote, done):
        store.save(run, make_components(), make_intervals(2))
    statuses = {r.run_id: r.status for r in store.runs()}
    assert statuses == {
        alive.run_id: "running", dead.run_id: "killed", stale.run_id: "killed", remote.run_id: "running",
        done.run_id: "finished",
    }
    # persisted, with the energy last flushed
    status_sql = "SELECT status FROM runs WHERE run_id = :r"
    assert column_value(store, status_sql, r=dead.run_id) == "killed"
    assert column_value(store, status_sql, r=stale.run_id) == "killed"
    assert column_value(store, status_sql, r=alive.run_id) == "running"
    assert store.run(dead.run_id).energy_j == 42.5
    assert store.run(stale.run_id) == replace(stale, status="killed")
    assert [r.run_id for r in store.runs(status="killed")] == [stale.run_id, dead.run_id]
    # run() applies the rule by itself
    another = make_run(run_id(3, 6), status="running", pid=dead_pid(), ended_at=None)
    store.save(another)
    assert store.run(another.run_id[:12]).status == "killed"
    # a writer that comes back (its next flush) wins: the run is running again
    store.save(replace(stale, updated_at=time.time()))
    assert store.run(stale.run_id).status == "running"


def check_lookup(store: RunStore) -> None:
    ids = ["abcd0000" + "0" * 24, "abcd1111" + "0" * 24, "abce0000" + "0" * 24, "0123" + "f" * 28]
    for i, rid in enumerate(ids):
        store.save(make_run(rid, started_at=1_700_000_000.0 + i, project="p" if i % 2 else "q"))
    assert store.run("abcd0").run_id == ids[0]
    assert store.run("ABCD1").run_id == ids[1]
    assert store.run(ids[2]).run_id == ids[2]
    assert store.run("abce").run_id == ids[2]
    assert store.run("0123f").run_id == ids[3]
    assert store.run("last").run_id == ids[3]
    with pytest.raises(LookupError, match=r"prefix abcd matches 2 runs: abcd0000.*, abcd1111.*; give more digits"):
        store.run("abcd")
    with pytest.raises(LookupError, match="no run matches 'ffff'"):
        store.run("ffff")
    with pytest.raises(LookupError, match="at least 4 hex digits"):
        store.run("abc")
    with pytest.raises(LookupError, match="not a run reference"):
        store.run("zzzz")
    assert [r.run_id for r in store.runs()] == ids[::-1]
    assert [r.run_id for r in store.runs(limit=2)] == [ids[3], ids[2]]
    assert [r.run_id for r in store.runs(project="p")] == [ids[3], ids[1]]
    assert store.runs(project="nope") == []
    assert len(store.runs(limit=None, status="finished")) == 4
    assert store.projects() == ["p", "q"]
    with pytest.raises(ValueError, match="status='done' is not valid"):
        store.runs(status="done")


# -- concurrent writers ----------------------------------------------------------------------------------------


def run_writers(url: str, workers: int, runs: int, buckets: int, tmp: Path) -> None:
    """Start ``workers`` processes that each write ``runs`` runs (several flushes each) to ``url`` at once."""
    barrier = tmp / "barrier"
    barrier.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "pg.py"), "write", url, str(w), str(runs), str(buckets), str(barrier)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    deadline = time.monotonic() + 60
    while len(list(barrier.glob("ready-*"))) < workers:
        failed = [p for p in procs if p.poll() not in (None, 0)]
        if failed or time.monotonic() > deadline:
            for p in procs:
                p.kill()
            raise AssertionError(f"writers did not start: {[p.communicate()[1] for p in failed]}")
        time.sleep(0.02)
    (barrier / "go").touch()
    spans = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        spans.append(json.loads(out.strip().splitlines()[-1]))
    # the writers really overlapped: every one had begun before any had finished
    assert max(s["first"] for s in spans) < min(s["last"] for s in spans), spans


def write_runs(url: str, worker: int, runs: int, buckets: int, barrier: Path) -> dict[str, float]:
    """One writer process: open, wait for the others, then flush each run as a recorder would (with retries)."""
    from wattprint.store import open_store

    store = open_store(url)
    (barrier / f"ready-{worker}").touch()
    deadline = time.monotonic() + 60
    while not (barrier / "go").exists():
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.005)
    intervals = make_intervals(buckets)
    per_bucket = len(intervals) // buckets
    flushes = 3
    first = time.time()
    for index in range(runs):
        rid = run_id(worker, index)
        step = -(-buckets // flushes)
        for flush in range(flushes):
            start = max(0, flush * step - 1)  # the last bucket of the previous flush again, as it grew
            part = intervals[start * per_bucket:(flush + 1) * step * per_bucket]
            run = make_run(rid, project=f"team-{index % 3}", status="running", ended_at=None)
            store.save(run, make_components(), part, make_tasks(flush + 1)[flush:])
        final = make_run(rid, project=f"team-{index % 3}", status="finished")
        store.save(final, make_components(), intervals[-per_bucket:], make_tasks(flushes))
    last = time.time()
    store.close()
    return {"first": first, "last": last}


def check_concurrent(store: RunStore, workers: int, runs: int, buckets: int) -> None:
    devices = 3
    assert count(store, "SELECT count(*) FROM runs") == workers * runs
    assert count(store, "SELECT count(DISTINCT run_id) FROM runs") == workers * runs
    assert count(store, "SELECT count(*) FROM projects") == min(3, runs)
    assert count(store, "SELECT count(*) FROM intervals") == workers * runs * buckets * devices
    assert count(store, "SELECT count(*) FROM tasks") == workers * runs * 3
    assert count(store, "SELECT count(*) FROM run_components") == workers * runs * devices
    assert count(store, "SELECT count(*) FROM runs WHERE status <> 'finished'") == 0
    expected = make_intervals(buckets)
    for worker in range(workers):
        assert store.intervals(run_id(worker, runs - 1)) == sorted(
            expected, key=lambda i: (i.bucket, i.device)
        )


# -- unprivileged processes ------------------------------------------------------------------------------------


def run_unprivileged(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python process that file permissions apply to.

    As root (whom permissions do not stop) the child imports what it needs, then drops to ``nobody`` before
    running ``code`` (the interpreter itself may live where ``nobody`` cannot read).
    """
    prelude = ""
    if os.geteuid() == 0:
        prelude = (
            "import os, sqlite3, sqlalchemy, sqlalchemy.dialects.sqlite.pysqlite, sqlalchemy.dialects.postgresql\n"
            "import wattprint.store.runstore, wattprint.store.spool, wattprint._version\n"
            "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
        )
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=timeout)


def unprivileged_dir() -> Path:
    """A temporary directory that ``nobody`` can enter (pytest's own are private to the user)."""
    path = Path(tempfile.mkdtemp(prefix="wattprint-store-"))
    path.chmod(0o755)
    return path


# -- PostgreSQL ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``: WATTPRINT_TEST_PG_BIN, PATH, Debian's."""
    candidates = []
    if os.environ.get("WATTPRINT_TEST_PG_BIN"):
        candidates.append(Path(os.environ["WATTPRINT_TEST_PG_BIN"]))
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    def version(path: str) -> int:
        name = Path(path).parent.name
        return int(name) if name.isdigit() else 0

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    for directory in candidates:
        if all((directory / tool).is_file() and os.access(directory / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return directory
    return None


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 with trust authentication."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="wattprint-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd

            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root)
                pytest.skip("running as root and there is no 'postgres' user to run the PostgreSQL server as")
            if shutil.which("runuser") is None:
                shutil.rmtree(self.root)
                pytest.skip("running as root and runuser is missing: PostgreSQL refuses to run as root")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [*self.as_user, *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}\n{tail}")

    def start(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C", "--no-sync", "--no-instructions")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "-o", options, "start")

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True,
                         connect_timeout=10) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """An admin URL of a PostgreSQL server for this test session (a throwaway cluster, started here)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[test]'")
    given = os.environ.get("WATTPRINT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bindir = find_pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: not on PATH nor in "
                    "/usr/lib/postgresql/*/bin (apt-get install postgresql, or set WATTPRINT_TEST_PG_BIN)")
    server = PostgresServer(bindir)
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    try:
        yield server.admin_url
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty database for one test."""
    name = "wattprint_test_" + uuid.uuid4().hex[:12]
    _admin(postgres_admin_url, f"CREATE DATABASE {name}")
    base, _, _ = postgres_admin_url.rpartition("/")
    yield f"{base}/{name}"
    _admin(postgres_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__" and len(sys.argv) == 7 and sys.argv[1] == "write":
    _, _, url_arg, worker_arg, runs_arg, buckets_arg, barrier_arg = sys.argv
    print(json.dumps(write_runs(url_arg, int(worker_arg), int(runs_arg), int(buckets_arg), Path(barrier_arg))))
