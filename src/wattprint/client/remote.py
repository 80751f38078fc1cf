"""A team server read like a run store: what ``wattprint runs --server`` and ``show --server`` read from, so that
they print exactly what they print from a store."""

from __future__ import annotations

from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.api.records import (
        ComponentRecord,
        IntervalRecord,
        RequestIntervalRecord,
        RunDocument,
        RunRecord,
        TaskRecord,
    )
    from wattprint.client.http import ServerClient

__all__ = ["RemoteRuns", "open_remote", "server_settings"]


def server_settings(url: str | None = None, token: str | None = None) -> tuple[str, object]:
    """The server and token to use: those given, else the ``server`` and ``server_token`` settings
    (WATTPRINT_SERVER, WATTPRINT_SERVER_TOKEN, the configuration files); ConfigError when no server is named."""
    from wattprint.core.errors import ConfigError
    from wattprint.settings.config import load_config

    config = load_config({"server": url, "server_token": token})
    server = config.get("server")
    if server is None:
        raise ConfigError("no team server is named: give --server URL, or set server (WATTPRINT_SERVER, or "
                          "server = \"http://HOST:PORT\" in wattprint.toml)")
    return str(server), config.get("server_token")


def open_remote(url: str | None = None, token: str | None = None) -> RemoteRuns:
    """The server ``url`` (default: the ``server`` setting), read with ``token`` (default: ``server_token``)."""
    from wattprint.client.http import ServerClient

    server, secret = server_settings(url, token)
    return RemoteRuns(ServerClient(server, secret))


class RemoteRuns:
    """The reading side of a ``RunStore`` (``runs``, ``run``, ``components``, ``intervals``, ``tasks``,
    ``projects``), answered by a team server; each run's document is fetched once."""

    def __init__(self, client: ServerClient) -> None:
        self.client = client
        self.url = client.url
        self._documents: dict[str, RunDocument] = {}

    def __enter__(self) -> RemoteRuns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def runs(self, project: str | None = None, limit: int | None = 20, status: str | None = None,
             tags: tuple[str, ...] = ()) -> list[RunRecord]:
        """Runs, newest first, as the server lists them (with every one of ``tags``)."""
        return self.client.runs(project=project, status=status, limit=limit, **({"tag": list(tags)} if tags else {}))

    def run(self, ref: str) -> RunRecord:
        """A run by id, unique prefix, or ``last``; LookupError when the server has none."""
        key = ref.strip().lower()
        if key == "last":
            newest = self.client.runs(limit=1)
            if not newest:
                raise LookupError(f"the server {self.url} has no runs yet")
            key = newest[0].run_id
        return self._document(key).run

    def components(self, run_id: str) -> list[ComponentRecord]:
        return list(self._document(run_id).components)

    def intervals(self, run_id: str) -> list[IntervalRecord]:
        return list(self._document(run_id).intervals)

    def tasks(self, run_id: str) -> list[TaskRecord]:
        return list(self._document(run_id).tasks)

    def request_intervals(self, run_id: str) -> list[RequestIntervalRecord]:
        """The run's requests summed per time bucket and endpoint (docs/inference.md)."""
        return list(self._document(run_id).request_intervals)

    def projects(self) -> list[str]:
        """Names of every project on the server, sorted."""
        return sorted(str(item["name"]) for item in self.client.projects() if item.get("name") is not None)

    def group(self, group_id: str) -> dict[str, Any]:
        """A run group's JSON (``GET /groups/{id}``, as ``wattprint show GROUP --json`` prints it); LookupError when
        the server has no part of it."""
        from urllib.parse import quote

        from wattprint.client.http import ServerRefused

        try:
            found: dict[str, Any] = self.client._request(  # noqa: SLF001 - the client's one way to ask the API
                "GET", f"/groups/{quote(group_id.strip(), safe='')}", what=f"run group {group_id}")
        except ServerRefused as error:
            if error.status == 404:
                raise LookupError(f"no run group {group_id!r} on the server {self.url}") from error
            raise
        return found

    def close(self) -> None:
        self.client.close()

    def _document(self, ref: str) -> RunDocument:
        document = self._documents.get(ref)
        if document is None:
            document = self.client.run(ref)
            self._documents[ref] = self._documents[document.run.run_id] = document
        return document
