"""The store's tables, as SQLAlchemy Core objects for queries (the migrations in ``migrations/`` create them).

Times are unix seconds (UTC) as doubles; energies in joules; JSON values are TEXT holding JSON, so that SQLite and
PostgreSQL keep them byte for byte (``hardware::jsonb`` reads them as JSON in PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from wattprint.store.rows import HEAD_REVISION  # noqa: F401 - the newest migration, kept with the rows it fills

metadata = MetaData()


def _run_fk(name: str) -> ForeignKey:
    return ForeignKey("runs.run_id", ondelete="CASCADE", name=name)


projects = Table(
    "projects",
    metadata,
    Column("project_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False),
    Column("created_at", Double, nullable=False),
    UniqueConstraint("name", name="uq_projects_name"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.project_id", name="fk_runs_project"), nullable=True),
    Column("name", Text),
    Column("status", String, nullable=False),
    Column("started_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    Column("ended_at", Double),
    Column("duration_s", Double, nullable=False),
    Column("energy_j", Double, nullable=False),
    Column("energy_uncertainty_rel", Double, nullable=False),
    Column("attribution", String, nullable=False),
    Column("hostname", Text, nullable=False),
    Column("username", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("wattprint_version", String, nullable=False),
    Column("command", Text),
    Column("exit_code", Integer),
    Column("config_fingerprint", String),
    Column("hardware", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("location", Text),
    Column("how_located", Text),
    Column("intensity_g_per_kwh", Double),
    Column("intensity_zone", Text),
    Column("intensity_source", Text),
    Column("intensity_year", Integer),
    Column("intensity_kind", String),
    Column("intensity_uncertainty_rel", Double),
    Column("pue", Double),
    Column("facility_energy_j", Double),
    Column("emissions_g", Double),
    Column("emissions_uncertainty_rel", Double),
    Column("water_l", Double),
    Column("embodied_g", Double),
    Column("extra", Text),
    CheckConstraint("status IN ('running', 'finished', 'failed', 'killed')", name="ck_runs_status"),
    Index("ix_runs_started_at", "started_at"),
    Index("ix_runs_project_started_at", "project_id", "started_at"),
    Index("ix_runs_project_totals", "project_id", "started_at", "energy_j", "duration_s", "emissions_g",
          "energy_uncertainty_rel", "emissions_uncertainty_rel"),
    Index("ix_runs_status", "status"),
)

run_components = Table(
    "run_components",
    metadata,
    Column("run_id", String(32), _run_fk("fk_run_components_run"), nullable=False),
    Column("component", String, nullable=False),
    Column("device", String, nullable=False),
    Column("position", Integer, nullable=False),
    Column("energy_j", Double, nullable=False),
    Column("avg_power_w", Double, nullable=False),
    Column("method", String, nullable=False),
    Column("uncertainty_rel", Double, nullable=False),
    PrimaryKeyConstraint("run_id", "component", "device", name="pk_run_components"),
)

intervals = Table(
    "intervals",
    metadata,
    Column("run_id", String(32), _run_fk("fk_intervals_run"), nullable=False),
    Column("bucket", Integer, nullable=False),
    Column("device", String, nullable=False),
    Column("component", String, nullable=False),
    Column("start_offset_s", Double, nullable=False),
    Column("end_offset_s", Double, nullable=False),
    Column("energy_j", Double, nullable=False),
    Column("avg_power_w", Double, nullable=False),
    Column("method", String, nullable=False),
    Column("uncertainty_rel", Double, nullable=False),
    Column("emissions_g", Double),
    Column("intensity_g_per_kwh", Double),
    PrimaryKeyConstraint("run_id", "bucket", "device", name="pk_intervals"),
    sqlite_with_rowid=False,
)

tasks = Table(
    "tasks",
    metadata,
    Column("run_id", String(32), _run_fk("fk_tasks_run"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("started_at", Double, nullable=False),
    Column("duration_s", Double, nullable=False),
    Column("energy_j", Double, nullable=False),
    Column("uncertainty_rel", Double, nullable=False),
    Column("method", String, nullable=False),
    Column("components", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "seq", name="pk_tasks"),
    sqlite_with_rowid=False,
)

request_intervals = Table(
    "request_intervals",
    metadata,
    Column("run_id", String(32), _run_fk("fk_request_intervals_run"), nullable=False),
    Column("bucket", Integer, nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("start_offset_s", Double, nullable=False),
    Column("end_offset_s", Double, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("energy_j", Double, nullable=False),
    Column("method", String, nullable=False),
    Column("uncertainty_rel", Double, nullable=False),
    Column("sharing", String, nullable=False),
    Column("latency_s", Double, nullable=False),
    Column("tokens_in", BigInteger),
    Column("tokens_out", BigInteger),
    Column("tokens_out_energy_j", Double, nullable=False),
    Column("items", BigInteger),
    Column("items_energy_j", Double, nullable=False),
    Column("prefill_tokens", BigInteger, nullable=False),
    Column("prefill_energy_j", Double),
    Column("decode_tokens", BigInteger, nullable=False),
    Column("decode_energy_j", Double),
    Column("first_token_requests", Integer, nullable=False),
    Column("time_to_first_token_s", Double, nullable=False),
    Column("idle_energy_j", Double, nullable=False),
    Column("idle_s", Double, nullable=False),
    Column("latency_hist", Text, nullable=False),
    Column("energy_hist", Text, nullable=False),
    Column("concurrency", Integer),
    PrimaryKeyConstraint("run_id", "bucket", "endpoint", name="pk_request_intervals"),
    sqlite_with_rowid=False,
)
"""A run's requests summed per time bucket and endpoint (``RequestIntervalRecord``, :mod:`wattprint.store.requests`);
bucket -1 holds the steady-state window's requests."""

run_tags = Table(
    "run_tags",
    metadata,
    Column("run_id", String(32), _run_fk("fk_run_tags_run"), nullable=False),
    Column("tag", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "tag", name="pk_run_tags"),
    Index("ix_run_tags_tag", "tag", "run_id"),
    sqlite_with_rowid=False,
)
"""A run's tags (``RunExtra.tags``), one row each, replaced by every save of a newer state: runs found by tag."""

server_tokens = Table(
    "server_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("scope", String, nullable=False),
    Column("project_id", Integer, ForeignKey("projects.project_id", name="fk_server_tokens_project"), nullable=True),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", Double, nullable=False),
    Column("revoked_at", Double),
    Column("last_used_at", Double),
    CheckConstraint("scope IN ('ingest', 'read', 'admin')", name="ck_server_tokens_scope"),
)
"""The team server's API tokens: ``token_id`` is the token's public prefix, ``key_hash`` the keyed hash (HMAC-SHA256
with the server's key) of its secret part; the secret itself is never stored."""

server_settings = Table(
    "server_settings",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", Text, nullable=False),
)
"""The team server's own values (the token hash key), created at its first start."""

sent_runs = Table(
    "sent_runs",
    metadata,
    Column("target", Text, nullable=False),
    Column("run_id", String(32), _run_fk("fk_sent_runs_run"), nullable=False),
    Column("sent_updated_at", Double, nullable=False),
    Column("sent_at", Double, nullable=False),
    PrimaryKeyConstraint("target", "run_id", name="pk_sent_runs"),
)
"""The outbox marks of a client: the newest state (``updated_at``) of each run that a server (``target``, its base
URL) has acknowledged; a run whose ``updated_at`` is newer is still to be sent."""
