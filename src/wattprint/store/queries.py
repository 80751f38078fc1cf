"""Queries the team server asks of a store: whole documents saved with their outcome, runs filtered and paged by
keyset, totals per project and per group in SQL, and the server's tokens and settings.

Every value reaches the database as a bound parameter, never as SQL text, so a filter holding quotes or SQL is
just a string to compare with.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Integer, and_, cast, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from wattprint.store import schema
from wattprint.store.records import ComponentRecord, IntervalRecord, RunRecord, TaskRecord
from wattprint.store.requests import RequestIntervalRecord
from wattprint.store.runstore import RunStore, _run_from_row, _run_select
from wattprint.store.writing import PROJECT_INSERT, PROJECT_SELECT, prepare, write

RUN_SORTS = ("started_at", "updated_at", "energy_j", "duration_s")
"""Columns runs can be sorted by (never null, so a keyset cursor over them is exact)."""

TIME_GROUPS = ("day", "week", "month")
COLUMN_GROUPS = {"user": "username", "host": "hostname", "location": "location"}
GROUPS = (*TIME_GROUPS, *COLUMN_GROUPS, "hardware")
"""What a project's summary can be grouped by."""

DAY_S = 86_400


class ProjectMismatch(Exception):
    """A run is stored under another project than the one the writer may write."""

    def __init__(self, stored: str | None) -> None:
        super().__init__(stored)
        self.stored = stored


@dataclass(frozen=True)
class SaveOutcome:
    """What saving a document left stored: the run's ``updated_at``, and whether that is the state just sent."""

    updated_at: float
    stored: bool


@dataclass(frozen=True)
class RunSave:
    """One run's records to save with :func:`save_runs`, and who may write them: with ``check_project``, a run
    already stored under another project than ``project`` is left alone."""

    run: RunRecord
    components: Sequence[ComponentRecord] = ()
    intervals: Sequence[IntervalRecord] = ()
    tasks: Sequence[TaskRecord] = ()
    requests: Sequence[RequestIntervalRecord] = ()
    """The run's request sums per time bucket and endpoint (docs/inference.md)."""
    project: str | None = None
    check_project: bool = False


def save_runs(store: RunStore, saves: Sequence[RunSave]) -> list[SaveOutcome | ProjectMismatch]:
    """Save several runs (distinct ids) in one transaction by the rules of ``RunStore.save``, and say per run what
    it left stored, or the ProjectMismatch that kept it from being written. What a server received at the same
    time is written together (group commit): a few statements for all of them instead of a dozen for each.

    Runs are written in the order of their ids and new projects in the order of their names, so two such
    transactions running at once take their row locks in the same order and cannot deadlock."""
    given, saves = saves, sorted(saves, key=lambda save: save.run.run_id)
    refused: dict[str, ProjectMismatch] = {}
    with store._transaction() as db:  # noqa: SLF001 - the store package's own transaction
        checked = [save.run.run_id for save in saves if save.check_project]
        if checked:
            marks = ", ".join(f":r{i}" for i in range(len(checked)))
            found = dict(db.query(STORED_PROJECTS + f"({marks})", {f"r{i}": rid for i, rid in enumerate(checked)}))
            refused = {save.run.run_id: ProjectMismatch(found[save.run.run_id]) for save in saves
                       if save.check_project and save.run.run_id in found
                       and found[save.run.run_id] != save.project}
        writing = [save for save in saves if save.run.run_id not in refused]
        known = _project_ids.setdefault(store, {})
        projects = dict(known)
        stored: dict[str, float] = {}
        if writing:
            batch = prepare([(s.run, s.components, s.intervals, s.tasks, s.requests) for s in writing])
            write(db, batch, projects, stored_out=stored)
    known.update(projects)  # committed: those ids are the projects' for good (projects are never deleted)
    outcomes: dict[str, SaveOutcome | ProjectMismatch] = dict(refused)
    for save in writing:
        updated_at = stored[save.run.run_id]
        outcomes[save.run.run_id] = SaveOutcome(updated_at=updated_at, stored=updated_at == save.run.updated_at)
    return [outcomes[save.run.run_id] for save in given]


def save_document(
    store: RunStore,
    run: RunRecord,
    components: Sequence[ComponentRecord] = (),
    intervals: Sequence[IntervalRecord] = (),
    tasks: Sequence[TaskRecord] = (),
    *,
    project: str | None = None,
    check_project: bool = False,
    requests: Sequence[RequestIntervalRecord] = (),
) -> SaveOutcome:
    """``RunStore.save`` in one transaction that also reports the outcome; with ``check_project``, a run already
    stored under another project than ``project`` is left alone (ProjectMismatch). ``requests``: the run's request
    sums per time bucket and endpoint (docs/inference.md)."""
    (outcome,) = save_runs(store, [RunSave(run, components, intervals, tasks, requests, project, check_project)])
    if isinstance(outcome, ProjectMismatch):
        raise outcome
    return outcome


STORED_PROJECTS = ('SELECT r."run_id", p."name" FROM "runs" r '
                   'LEFT JOIN "projects" p ON p."project_id" = r."project_id" WHERE r."run_id" IN ')
"""The project each of some stored runs is under (no row for a run not stored); the caller adds ``(ids)``."""

_project_ids: weakref.WeakKeyDictionary[RunStore, dict[str, int]] = weakref.WeakKeyDictionary()
"""Each open store's project ids by name, as committed: a send does not look its project up again."""


# -- runs ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunFilter:
    """Which runs a listing holds; None leaves a criterion out. Times are unix seconds on ``started_at``."""

    project: str | None = None
    user: str | None = None
    host: str | None = None
    status: str | None = None
    since: float | None = None
    until: float | None = None
    tags: tuple[str, ...] = ()
    """Runs with every one of these tags."""
    group: str | None = None
    """The parts of this run group (``extra.group.group_id``, through the index of migration 0004)."""


def find_runs(
    store: RunStore,
    where: RunFilter,
    *,
    sort: str = "-started_at",
    limit: int | None = 50,
    after: tuple[float, str] | None = None,
) -> list[RunRecord]:
    """Runs matching ``where``, sorted by ``sort`` (a column of ``RUN_SORTS``, ``-`` for descending) then run id,
    starting after the keyset position ``after`` (the sort value and run id of the last run of the page before)."""
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in RUN_SORTS:
        raise ValueError(f"sort={sort!r} is not valid; allowed: {', '.join(RUN_SORTS)}, each with - for descending")
    store._reap()  # noqa: SLF001 - as RunStore.runs does: a running run whose writer is gone reads as killed
    runs = schema.runs
    column = runs.c[name]
    query = _run_select().where(*_conditions(where))
    if where.group is not None:
        from wattprint.store.groups import group_id_column

        query = query.where(group_id_column(store) == where.group)
    if after is not None:
        value, run_id = after
        if descending:
            query = query.where(or_(column < value, and_(column == value, runs.c.run_id < run_id)))
        else:
            query = query.where(or_(column > value, and_(column == value, runs.c.run_id > run_id)))
    if descending:
        query = query.order_by(column.desc(), runs.c.run_id.desc())
    else:
        query = query.order_by(column.asc(), runs.c.run_id.asc())
    with store._read() as conn:  # noqa: SLF001
        return [_run_from_row(row._mapping) for row in conn.execute(query.limit(limit))]


def _conditions(where: RunFilter) -> list[Any]:
    runs = schema.runs
    found: list[Any] = []
    if where.project is not None:
        found.append(schema.projects.c.name == where.project)
    if where.user is not None:
        found.append(runs.c.username == where.user)
    if where.host is not None:
        found.append(runs.c.hostname == where.host)
    if where.status is not None:
        found.append(runs.c.status == where.status)
    if where.since is not None:
        found.append(runs.c.started_at >= where.since)
    if where.until is not None:
        found.append(runs.c.started_at < where.until)
    tags = schema.run_tags
    for tag in dict.fromkeys(where.tags):
        found.append(runs.c.run_id.in_(select(tags.c.run_id).where(tags.c.tag == tag)))
    return found


def run_project(store: RunStore, run_id: str) -> tuple[bool, str | None]:
    """Whether the run is stored, and its project's name."""
    runs, projects = schema.runs, schema.projects
    query = (
        select(projects.c.name)
        .select_from(runs.outerjoin(projects, runs.c.project_id == projects.c.project_id))
        .where(runs.c.run_id == run_id)
    )
    with store._read() as conn:  # noqa: SLF001
        row = conn.execute(query).first()
    return (False, None) if row is None else (True, row[0])


# -- totals ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Runs of one group and their sums; ``avg_power_w`` is total energy over total time (None without time)."""

    key: str | None
    runs: int
    energy_j: float
    emissions_g: float | None
    duration_s: float
    first_started_at: float
    last_started_at: float
    energy_uncertain_j: float = 0.0
    """Sum over the runs of energy x relative uncertainty (``energy_uncertainty_rel`` divides it by the energy)."""
    emissions_uncertain_g: float = 0.0
    """The same for emissions."""

    @property
    def avg_power_w(self) -> float | None:
        return self.energy_j / self.duration_s if self.duration_s > 0 else None

    @property
    def energy_uncertainty_rel(self) -> float:
        """The runs' relative uncertainties weighted by their energy: a bound on the total's (errors that all go
        the same way), as the dashboard's project page gives it."""
        return self.energy_uncertain_j / self.energy_j if self.energy_j > 0 else 0.0

    @property
    def emissions_uncertainty_rel(self) -> float | None:
        """The same for emissions, weighted by the runs' emissions; None when nothing is priced."""
        if self.emissions_g is None:
            return None
        return self.emissions_uncertain_g / self.emissions_g if self.emissions_g > 0 else 0.0

    def merged(self, other: Totals, key: str | None) -> Totals:
        emissions = None if self.emissions_g is None and other.emissions_g is None else (
            (self.emissions_g or 0.0) + (other.emissions_g or 0.0))
        return Totals(key, self.runs + other.runs, self.energy_j + other.energy_j, emissions,
                      self.duration_s + other.duration_s, min(self.first_started_at, other.first_started_at),
                      max(self.last_started_at, other.last_started_at),
                      self.energy_uncertain_j + other.energy_uncertain_j,
                      self.emissions_uncertain_g + other.emissions_uncertain_g)


def _sums() -> list[Any]:
    runs = schema.runs
    return [
        func.count(),  # count(*): the totals index covers every column these sums read
        func.sum(runs.c.energy_j),
        func.sum(runs.c.emissions_g),
        func.sum(runs.c.duration_s),
        func.min(runs.c.started_at),
        func.max(runs.c.started_at),
        func.sum(runs.c.energy_j * runs.c.energy_uncertainty_rel),
        func.sum(runs.c.emissions_g * runs.c.emissions_uncertainty_rel),
    ]


def _totals(key: Any, row: Any) -> Totals:
    count, energy, emissions, duration, first, last, energy_uncertain, emissions_uncertain = row
    return Totals(key, int(count), float(energy or 0.0), None if emissions is None else float(emissions),
                  float(duration or 0.0), float(first), float(last), float(energy_uncertain or 0.0),
                  float(emissions_uncertain or 0.0))


def project_totals(store: RunStore, names: Sequence[str] | None = None) -> list[Totals]:
    """Totals per project (``key`` its name), sorted by name; only ``names`` when given.

    The runs are summed per project id first, then named, from the index ``ix_runs_project_totals`` alone (it holds
    every column summed): 100,000 runs in about 45 ms on SQLite, where reading the table took 140 ms.
    """
    runs, projects = schema.runs, schema.projects
    group: Any = runs.c.project_id
    sums = select(group.label("project_id"), *_sums()).where(runs.c.project_id.is_not(None))
    if names is not None:
        ids = select(projects.c.project_id).where(projects.c.name.in_(list(names)))
        sums = sums.where(runs.c.project_id.in_(ids.scalar_subquery()))
    totals = sums.group_by(group).subquery()
    query = (
        select(projects.c.name, *[c for c in totals.columns if c.name != "project_id"])
        .select_from(totals.join(projects, totals.c.project_id == projects.c.project_id))
        .order_by(projects.c.name)
    )
    with store._read() as conn:  # noqa: SLF001
        return [_totals(row[0], row[1:]) for row in conn.execute(query)]


def project_exists(store: RunStore, name: str) -> bool:
    with store._read() as conn:  # noqa: SLF001
        return conn.execute(select(schema.projects.c.project_id).where(schema.projects.c.name == name)).first() \
            is not None


def project_names(store: RunStore) -> list[str]:
    """Every project's name, sorted (those without runs too)."""
    with store._read() as conn:  # noqa: SLF001
        return sorted(str(name) for name in conn.execute(select(schema.projects.c.name)).scalars())


def ensure_project(store: RunStore, name: str) -> None:
    """Create the project ``name`` unless it exists (a run creates its project anyway; this is for clients that
    make a project before sending runs)."""
    with store._transaction() as db:  # noqa: SLF001
        db.execute(PROJECT_INSERT, {"name": name, "created_at": time.time()})


def project_groups(store: RunStore, project: str, by: str) -> list[Totals]:
    """A project's runs totalled per ``by`` (one of ``GROUPS``): per UTC day, ISO week or month of ``started_at``
    (keys ``2026-12-02``, ``2026-W49``, ``2026-12``, oldest first), or per user, host, location or hardware (the
    largest energy first)."""
    if by not in GROUPS:
        raise ValueError(f"by={by!r} is not valid; allowed: {', '.join(GROUPS)}")
    runs, projects = schema.runs, schema.projects
    if by == "hardware":
        return _hardware_groups(store, project)
    if by in COLUMN_GROUPS:
        key: Any = runs.c[COLUMN_GROUPS[by]]
    elif store.dialect == "postgresql":
        key = func.floor(runs.c.started_at / DAY_S)
    else:
        key = cast(runs.c.started_at / DAY_S, Integer)  # truncation is the floor for times after 1970
    query = (
        select(key.label("key"), *_sums())
        .select_from(runs.join(projects, runs.c.project_id == projects.c.project_id))
        .where(projects.c.name == project)
        .group_by(key)
    )
    with store._read() as conn:  # noqa: SLF001
        rows = [_totals(row[0], row[1:]) for row in conn.execute(query)]
    if by in COLUMN_GROUPS:
        return sorted(rows, key=lambda t: (-t.energy_j, t.key is None, t.key or ""))
    merged: dict[str, Totals] = {}
    for day in rows:
        label = _time_key(int(day.key if day.key is not None else 0), by)
        merged[label] = merged[label].merged(day, label) if label in merged else replace(day, key=label)
    return [merged[label] for label in sorted(merged)]


def hardware_key(hardware: Sequence[Any]) -> str:
    """What a run ran on, as a group's name: its GPU models with counts (``2 x NVIDIA H100``), else its CPU model,
    else ``unknown``."""
    from collections import Counter

    for component in ("gpu", "cpu"):
        models = Counter(str(h["model"]) for h in hardware
                         if isinstance(h, dict) and h.get("component") == component and h.get("model"))
        if models:
            return ", ".join(f"{n} x {model}" if n > 1 else model for model, n in sorted(models.items()))
    return "unknown"


def _hardware_groups(store: RunStore, project: str) -> list[Totals]:
    """Totals per hardware (``hardware_key``): the hardware column is JSON, so runs are grouped here, not in SQL."""
    import json

    runs, projects = schema.runs, schema.projects
    query = (
        select(runs.c.hardware, runs.c.energy_j, runs.c.emissions_g, runs.c.duration_s, runs.c.started_at,
               runs.c.energy_uncertainty_rel, runs.c.emissions_uncertainty_rel)
        .select_from(runs.join(projects, runs.c.project_id == projects.c.project_id))
        .where(projects.c.name == project)
    )
    groups: dict[str, Totals] = {}
    with store._read() as conn:  # noqa: SLF001
        for hardware, energy, emissions, duration, started, energy_rel, emissions_rel in conn.execute(query):
            key = hardware_key(json.loads(hardware))
            one = Totals(key, 1, float(energy), None if emissions is None else float(emissions), float(duration),
                         float(started), float(started), float(energy) * float(energy_rel or 0.0),
                         float(emissions or 0.0) * float(emissions_rel or 0.0))
            groups[key] = groups[key].merged(one, key) if key in groups else one
    return sorted(groups.values(), key=lambda t: (-t.energy_j, t.key or ""))


def _time_key(day: int, by: str) -> str:
    import datetime

    date = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
    if by == "day":
        return date.isoformat()
    if by == "week":
        year, week, _ = date.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{date.year}-{date.month:02d}"


# -- the server's settings and tokens ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRow:
    """A stored token, its secret never included (``key_hash`` is its keyed hash)."""

    token_id: str
    name: str
    scope: str
    project: str | None
    key_hash: str
    created_at: float
    revoked_at: float | None
    last_used_at: float | None


def _upsert_ignore(store: RunStore, table: Any) -> Any:
    dialect = postgresql if store.dialect == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def setting(store: RunStore, name: str) -> str | None:
    table = schema.server_settings
    with store._read() as conn:  # noqa: SLF001
        value = conn.execute(select(table.c.value).where(table.c.name == name)).scalar()
    return None if value is None else str(value)


def settings_named(store: RunStore, prefix: str) -> dict[str, str]:
    """The server settings whose names start with ``prefix`` (taken literally: pattern characters escaped)."""
    table = schema.server_settings
    query = select(table.c.name, table.c.value).where(table.c.name.startswith(prefix, autoescape=True))
    with store._read() as conn:  # noqa: SLF001
        return {str(name): str(value) for name, value in conn.execute(query) if str(name).startswith(prefix)}


def ensure_setting(store: RunStore, name: str, value: str, token: TokenRow | None = None) -> tuple[str, bool]:
    """The stored value of ``name``, storing ``value`` if there is none; whether it was stored now. ``token`` is
    stored in the same transaction when (and only when) the value is new: a first start's admin token."""
    table = schema.server_settings
    with store._write() as conn:  # noqa: SLF001
        conn.execute(_upsert_ignore(store, table).values(name=name, value=value))
        stored = str(conn.execute(select(table.c.value).where(table.c.name == name)).scalar_one())
        created = stored == value
        if created and token is not None:
            _insert_token(conn, token)
    return stored, created


def _insert_token(conn: Any, token: TokenRow) -> None:
    project_id = None
    if token.project is not None:
        params = {"name": token.project}
        from sqlalchemy import text

        conn.execute(text(PROJECT_INSERT), {**params, "created_at": time.time()})
        project_id = int(conn.execute(text(PROJECT_SELECT), params).scalar_one())
    conn.execute(insert(schema.server_tokens).values(
        token_id=token.token_id, name=token.name, scope=token.scope, project_id=project_id, key_hash=token.key_hash,
        created_at=token.created_at, revoked_at=None, last_used_at=None))


def insert_token(store: RunStore, token: TokenRow) -> None:
    """Store a new token (its project created if new)."""
    with store._write() as conn:  # noqa: SLF001
        _insert_token(conn, token)


def _token_select() -> Any:
    tokens, projects = schema.server_tokens, schema.projects
    return select(*[c for c in tokens.columns if c.name != "project_id"], projects.c.name.label("project")).select_from(
        tokens.outerjoin(projects, tokens.c.project_id == projects.c.project_id))


def _token(row: Any) -> TokenRow:
    m = row._mapping
    return TokenRow(m["token_id"], m["name"], m["scope"], m["project"], m["key_hash"], float(m["created_at"]),
                    None if m["revoked_at"] is None else float(m["revoked_at"]),
                    None if m["last_used_at"] is None else float(m["last_used_at"]))


def tokens(store: RunStore) -> list[TokenRow]:
    """Every token, oldest first (revoked ones included)."""
    query = _token_select().order_by(schema.server_tokens.c.created_at, schema.server_tokens.c.token_id)
    with store._read() as conn:  # noqa: SLF001
        return [_token(row) for row in conn.execute(query)]


def token(store: RunStore, token_id: str) -> TokenRow | None:
    with store._read() as conn:  # noqa: SLF001
        row = conn.execute(_token_select().where(schema.server_tokens.c.token_id == token_id)).first()
    return None if row is None else _token(row)


def revoke_token(store: RunStore, token_id: str, at: float) -> bool:
    """Mark a token revoked (a revoked one keeps its first revocation time); whether such a token exists."""
    table = schema.server_tokens
    with store._write() as conn:  # noqa: SLF001
        conn.execute(update(table).where(table.c.token_id == token_id, table.c.revoked_at.is_(None))
                     .values(revoked_at=at))
        return conn.execute(select(table.c.token_id).where(table.c.token_id == token_id)).first() is not None


def touch_token(store: RunStore, token_id: str, at: float) -> None:
    table = schema.server_tokens
    with store._write() as conn:  # noqa: SLF001
        conn.execute(update(table).where(table.c.token_id == token_id).values(last_used_at=at))
