"""The team server's speed (issue 15): ingest throughput with concurrent clients, the cost of a token check, list
and summary latency over many runs, and the server's memory. Prints figures; asserts nothing.

    python bench/bench_server.py [--clients 8] [--runs-per-client 10] [--flushes 5] [--buckets 40] [--pg]
                                 [--no-sqlite] [--httpx] [--workers 1] [--scale-runs 20000] [--scale-buckets 0]

1. Ingest: a real ``wattprint server`` (a child process) over a fresh SQLite store (and a throwaway PostgreSQL
   cluster with ``--pg``); ``--clients`` threads each PUT their runs flush by flush, as the client-side sink does,
   every flush carrying ``--buckets`` new buckets of 3 devices, each on one keep-alive connection with an ingest
   token of its project (4 projects), as a team's machines send. Bodies are
   encoded before the clock starts and the clients are plain ``http.client`` senders (``--httpx``: wattprint's
   own client library, which costs the shared cores about 1.3 ms a send more), so the figure is the server's
   as far as one machine allows. Throughput = intervals stored / wall time, checked against the store's count; the
   CPU the server, PostgreSQL and the clients each used over that time (they share the machine's cores).
2. Token check: ``TokenChecker.check`` on a valid, cached token (one HMAC-SHA256 and a dictionary look-up), timed
   over 200,000 calls; and a check of an unknown token, which reads the store.
3. Reading at scale: ``--scale-runs`` runs (``--scale-buckets`` buckets x 3 devices each) written straight into
   a new store (SQLite, and PostgreSQL with ``--pg``), then p50/p95 of GET /api/v1/runs (a page of 50, unfiltered,
   by project and 20 pages in), /api/v1/projects and /api/v1/projects/P/summary?by=day and ?by=user, 40 each.
4. Memory: the server process's resident set (VmRSS, VmHWM) after each phase.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.pg import (  # noqa: E402 - the repository's test helpers, importable once REPO is on the path
    PostgresServer,
    find_pg_bin,
    make_components,
    make_intervals,
    make_run,
    make_tasks,
    run_id,
)
from tests.fakes.server import TeamServer, sqlite_url  # noqa: E402


def memory(pid: int) -> str:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return f"RSS {fields.get('VmRSS', 0):.0f} MiB (peak {fields.get('VmHWM', 0):.0f} MiB)"


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far, by who: the server's processes (its workers included), PostgreSQL's, and this
    process (the clients)."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[str, str] = {}
    used_by: dict[str, float] = {}
    servers, postgres = set(), set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[pid] = fields[1]
        used_by[pid] = (int(fields[11]) + int(fields[12])) / tick
        if "-m wattprint server" in command or "wattprint server " in command:
            servers.add(pid)
        elif command.startswith("postgres"):
            postgres.add(pid)

    def under_server(pid: str) -> bool:
        while pid in parents and pid not in servers:
            pid = parents[pid]
        return pid in servers

    times = os.times()
    return {"server": sum(used for pid, used in used_by.items() if under_server(pid)),
            "PostgreSQL": sum(used_by[pid] for pid in postgres), "clients": times.user + times.system}


def project_of(worker: int) -> str:
    return f"bench-{worker % 4}"


def bodies(worker: int, runs: int, flushes: int, buckets: int) -> list[tuple[str, bytes, int]]:
    """(run id, JSON body, intervals in it) for every PUT a client makes, in order."""
    from wattprint.api.codec import to_dict
    from wattprint.api.records import RunDocument

    intervals = make_intervals(buckets * flushes)
    per_flush = buckets * 3
    out = []
    for index in range(runs):
        rid = run_id(worker, index, salt=7)
        for flush in range(flushes):
            final = flush == flushes - 1
            run = make_run(rid, project=project_of(worker), status="finished" if final else "running",
                           updated_at=1_760_000_000.0 + flush, ended_at=1_760_000_100.0 if final else None)
            part = intervals[flush * per_flush:(flush + 1) * per_flush]
            doc = RunDocument(run=run, components=tuple(make_components()), intervals=tuple(part),
                              tasks=tuple(make_tasks(flush + 1)[flush:]))
            out.append((rid, json.dumps(to_dict(doc)).encode(), len(part)))
    return out


def ingest(server: TeamServer, clients: int, runs: int, flushes: int, buckets: int,
           use_httpx: bool = False) -> dict[str, float]:
    import httpx

    work = [bodies(w, runs, flushes, buckets) for w in range(clients)]
    tokens = {}  # each client sends with an ingest token of its project, as a team's machines do
    for project in sorted({project_of(w) for w in range(clients)}):
        made = httpx.post(f"{server.url}/api/v1/tokens", json={"scope": "ingest", "project": project},
                          headers=server.auth(), timeout=30)
        made.raise_for_status()
        tokens[project] = made.json()["token"]
    barrier = threading.Barrier(clients + 1)
    latencies: list[float] = []
    errors: list[str] = []

    def light_client(items: list[tuple[str, bytes, int]], token: str) -> None:
        """One keep-alive connection of the standard library: a load generator that leaves the cores to the server."""
        import http.client
        from urllib.parse import urlsplit

        where = urlsplit(server.url)
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=120)
        headers = {**server.auth(token), "content-type": "application/json"}
        connection.request("GET", "/api/v1/health")
        connection.getresponse().read()
        barrier.wait()
        for rid, body, _ in items:
            started = time.perf_counter()
            connection.request("PUT", f"/api/v1/runs/{rid}", body=body, headers=headers)
            answer = connection.getresponse()
            text = answer.read()
            latencies.append(time.perf_counter() - started)
            if answer.status != 200:
                errors.append(text[:200].decode(errors="replace"))
        connection.close()

    def client(items: list[tuple[str, bytes, int]], token: str) -> None:
        if not use_httpx:
            return light_client(items, token)
        with httpx.Client(base_url=server.url, headers={**server.auth(token), "content-type": "application/json"},
                          timeout=120) as http:
            http.get("/api/v1/health")
            barrier.wait()
            for rid, body, _ in items:
                started = time.perf_counter()
                answer = http.put(f"/api/v1/runs/{rid}", content=body)
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    errors.append(answer.text[:200])

    threads = [threading.Thread(target=client, args=(items, tokens[project_of(w)])) for w, items in enumerate(work)]
    for thread in threads:
        thread.start()
    before = cpu_seconds()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cores = {who: (used - before[who]) / wall for who, used in cpu_seconds().items()}
    sent = sum(n for items in work for _, _, n in items)
    from wattprint.store import open_store

    store = open_store(server.store_url)
    try:
        from sqlalchemy import text

        with store._engine.connect() as conn:  # noqa: SLF001 - a count straight from the database
            stored = int(conn.execute(text("SELECT count(*) FROM intervals")).scalar_one())
    finally:
        store.close()
    latencies.sort()
    return {"wall_s": wall, "puts": len(latencies), "intervals": sent, "stored": stored, "errors": len(errors),
            "intervals_per_s": sent / wall, "puts_per_s": len(latencies) / wall,
            "p50_ms": 1000 * latencies[len(latencies) // 2], "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)],
            "body_kb": sum(len(b) for items in work for _, b, _ in items) / len(latencies) / 1024,
            **{f"cores_{who}": value for who, value in cores.items()}}


def token_cost(workdir: Path) -> dict[str, float]:
    from wattprint.server.tokens import TokenChecker, TokenError, bootstrap, create_token, server_key
    from wattprint.store import open_store

    store = open_store(sqlite_url(workdir / "tokens.sqlite"))
    try:
        bootstrap(store)
        _, token = create_token(store, "ingest", "bench")
        checker = TokenChecker(store, server_key(store))
        checker.check(token)
        calls = 200_000
        started = time.perf_counter()
        for _ in range(calls):
            checker.check(token)
        cached = (time.perf_counter() - started) / calls
        unknown = "wp_0123456789ab_" + "x" * 43
        started = time.perf_counter()
        for _ in range(200):
            with contextlib.suppress(TokenError):
                checker.check(unknown)
        missing = (time.perf_counter() - started) / 200
    finally:
        store.close()
    return {"cached_us": cached * 1e6, "unknown_us": missing * 1e6}


def scale(workdir: Path, url: str, runs: int, buckets: int) -> tuple[str, float]:
    """Write ``runs`` runs straight into the store at ``url``; returns a project name and the seconds taken."""
    from wattprint.store import open_store

    store = open_store(url)
    intervals = make_intervals(buckets) if buckets else []
    components = make_components()
    started = time.perf_counter()
    users = [f"user-{i}" for i in range(25)]
    try:
        def items():  # noqa: ANN202
            for i in range(runs):
                run = make_run(run_id(900 + i % 50, i, salt=3), project=f"team-{i % 20}", username=users[i % 25],
                               hostname=f"node-{i % 40}", started_at=1_700_000_000.0 + i * 600.0,
                               updated_at=1_700_000_100.0 + i * 600.0, duration_s=100.0 + i % 1000,
                               energy_j=1000.0 + (i * 37) % 5000, emissions_g=0.1 * (i % 700))
                yield run, components, intervals, ()

        store.save_many(items(), batch_size=1000)
    finally:
        store.close()
    return "team-7", time.perf_counter() - started


GENERATE_INTERVALS = """
INSERT INTO intervals (run_id, bucket, device, component, start_offset_s, end_offset_s, energy_j, avg_power_w,
                       method, uncertainty_rel)
SELECT r.run_id, b, d.device, d.component, b * 10.0, b * 10.0 + 10.0, 100.0 + (b % 7), 10.0 + (b % 7) / 10.0,
       'counter', 0.05
FROM runs r CROSS JOIN generate_series(0, {buckets} - 1) AS b
CROSS JOIN (VALUES ('package-0', 'cpu'), ('gpu:0', 'gpu'), ('dram', 'ram')) AS d(device, component)
"""
"""PostgreSQL makes ``buckets`` x 3 intervals per stored run itself: 10 million rows in minutes, not hours."""


def generate_intervals(url: str, buckets: int) -> tuple[int, float]:
    """Fill every stored run of the PostgreSQL store ``url`` with ``buckets`` x 3 intervals; (rows, seconds)."""
    from sqlalchemy import text

    from wattprint.store import open_store

    store = open_store(url)
    started = time.perf_counter()
    try:
        with store._engine.begin() as conn:  # noqa: SLF001 - a bulk load straight into the database
            conn.execute(text(GENERATE_INTERVALS.format(buckets=int(buckets))))
            conn.execute(text("ANALYZE"))
            rows = int(conn.execute(text("SELECT count(*) FROM intervals")).scalar_one())
    finally:
        store.close()
    return rows, time.perf_counter() - started


def latency(server: TeamServer, project: str) -> dict[str, tuple[float, float]]:
    import httpx

    paths = {
        "runs (page of 50)": "/api/v1/runs?limit=50",
        "runs of a project": f"/api/v1/runs?limit=50&project={project}",
        "runs, page 20 (cursor)": None,
        "projects": "/api/v1/projects",
        "summary by day": f"/api/v1/projects/{project}/summary?by=day",
        "summary by user": f"/api/v1/projects/{project}/summary?by=user",
    }
    out = {}
    with httpx.Client(base_url=server.url, headers=server.auth(), timeout=120) as http:
        cursor = None
        for _ in range(19):
            cursor = http.get("/api/v1/runs", params={"limit": 50, **({"cursor": cursor} if cursor else {})}).json()[
                "next_cursor"]
        paths["runs, page 20 (cursor)"] = f"/api/v1/runs?limit=50&cursor={cursor}"
        for name, path in paths.items():
            assert path is not None
            http.get(path)
            times = []
            for _ in range(40):
                started = time.perf_counter()
                answer = http.get(path)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
            times.sort()
            out[name] = (1000 * statistics.median(times), 1000 * times[int(len(times) * 0.95)])
    return out


def report_ingest(label: str, figures: dict[str, float]) -> None:
    print(f"  {label}: {figures['intervals_per_s']:,.0f} intervals/s, {figures['puts_per_s']:.0f} PUT/s "
          f"({figures['puts']:.0f} PUTs of {figures['body_kb']:.0f} kB, {figures['intervals']:,.0f} intervals in "
          f"{figures['wall_s']:.2f} s; stored {figures['stored']:,.0f}; {figures['errors']:.0f} errors); "
          f"PUT latency p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms")
    print("    CPU while ingesting, in cores: " + ", ".join(
        f"{name[6:]} {value:.2f}" for name, value in figures.items() if name.startswith("cores_")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs-per-client", type=int, default=10)
    parser.add_argument("--flushes", type=int, default=5)
    parser.add_argument("--buckets", type=int, default=40, help="new buckets per flush (x 3 devices)")
    parser.add_argument("--pg", action="store_true", help="also over a throwaway PostgreSQL cluster")
    parser.add_argument("--no-sqlite", action="store_true", help="leave SQLite out (with --pg: PostgreSQL only)")
    parser.add_argument("--httpx", action="store_true",
                        help="clients send with httpx, as wattprint's own client does (heavier on the shared cores)")
    parser.add_argument("--workers", type=int, default=1, help="server processes for the ingest phase")
    parser.add_argument("--scale-runs", type=int, default=20_000, help="runs for the latency phase (0 to skip)")
    parser.add_argument("--scale-buckets", type=int, default=0, help="buckets per run in the latency phase")
    parser.add_argument("--pg-intervals-per-run", type=int, default=0, metavar="N",
                        help="with --pg: N x 3 intervals per run generated in PostgreSQL for the latency phase "
                             "(34 with --scale-runs 100000: 10.2 million intervals)")
    args = parser.parse_args()
    import os

    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    print(f"wattprint server bench: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; this machine's speed "
          f"now: a 10-million-step Python loop takes {time.perf_counter() - started:.2f} s (shared VMs vary)")
    workdir = Path(tempfile.mkdtemp(prefix="wattprint-bench-server-"))

    costs = token_cost(workdir)
    print(f"token check: {costs['cached_us']:.2f} µs (valid, cached: one HMAC-SHA256); "
          f"{costs['unknown_us']:.0f} µs (unknown id: one store read)")

    processes = f"{args.workers} server process{'es' if args.workers > 1 else ''}"
    print(f"ingest ({processes}): {args.clients} clients x {args.runs_per_client} runs x {args.flushes} flushes x "
          f"{args.buckets} buckets x 3 devices")
    targets = [] if args.no_sqlite else [("SQLite", sqlite_url(workdir / "ingest.sqlite"), None)]
    pg = None
    if args.pg:
        bindir = find_pg_bin()
        if bindir is None:
            print("  PostgreSQL: skipped (no initdb/pg_ctl)")
        else:
            pg = PostgresServer(bindir)
            pg.start()
            targets.append(("PostgreSQL", pg.admin_url, pg))
    try:
        for label, url, _ in targets:
            server = TeamServer(url, workdir, args=["--workers", str(args.workers)])
            server.start()
            try:
                figures = ingest(server, args.clients, args.runs_per_client, args.flushes, args.buckets,
                                 use_httpx=args.httpx)
                report_ingest(label, figures)
                assert server.process is not None
                print(f"    server memory after ingest: {memory(server.process.pid)}")
            finally:
                server.stop()
        if args.scale_runs:
            scale_targets = [("SQLite", sqlite_url(workdir / "scale.sqlite"))]
            if pg is not None:
                from tests.fakes.pg import _admin

                _admin(pg.admin_url, "CREATE DATABASE wattprint_scale")
                scale_targets.append(("PostgreSQL", pg.admin_url.rsplit("/", 1)[0] + "/wattprint_scale"))
            for label, url in scale_targets:
                project, took = scale(workdir, url, args.scale_runs, args.scale_buckets)
                print(f"reading at scale ({label}): {args.scale_runs:,} runs, "
                      f"{args.scale_runs * args.scale_buckets * 3:,} intervals (written in {took:.1f} s)")
                if label == "PostgreSQL" and args.pg_intervals_per_run:
                    rows, took = generate_intervals(url, args.pg_intervals_per_run)
                    print(f"  + intervals generated in PostgreSQL: {rows:,} in all ({took:.0f} s)")
                server = TeamServer(url, workdir)
                server.start()
                try:
                    for name, (p50, p95) in latency(server, project).items():
                        print(f"  {name:<24} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
                    assert server.process is not None
                    print(f"    server memory: {memory(server.process.pid)}")
                finally:
                    server.stop()
    finally:
        if pg is not None:
            pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
