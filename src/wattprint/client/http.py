"""The HTTP client of a team server's API v1 (docs/team.md): send a run, list runs, read one run.

Records travel in the wire format (``api.codec``). Every failure is a :class:`ServerError` whose message says what
went wrong and the fix: :class:`ServerUnavailable` (no connection, a timeout, a 5xx) is worth trying again later,
:class:`ServerRefused` (a 4xx: a bad or revoked token, another project's token, a payload refused) is not. httpx is
imported when the first request is made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from wattprint.core.errors import ConfigError, WattprintError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

    from wattprint.api.records import RunDocument, RunRecord

__all__ = ["API_PATH", "Ack", "ServerClient", "ServerError", "ServerRefused", "ServerUnavailable", "server_url"]

API_PATH = "/api/v1"
TIMEOUT_S = 10.0
"""How long one request may take, unless told otherwise."""
CONNECT_TIMEOUT_S = 3.0
"""How long connecting may take: a server that is down answers at once, one that is unreachable never does."""
PAGE_SIZE = 200
"""Runs asked for per page when listing."""

TOKEN_FIX = ("set server_token (WATTPRINT_SERVER_TOKEN, or --server-token) to a token the server's admin made "
             "with 'wattprint server token create --scope ingest --project P'")
_FIXES = {
    401: "the server refused the token (none given, wrong, or revoked): " + TOKEN_FIX,
    403: "the token may not do this (a read token, or an ingest token of another project): use an ingest token "
         "of the run's project ('wattprint server token create --scope ingest --project P' on the server)",
    404: "check the server setting: it is the base URL 'wattprint server' prints at start (http://HOST:PORT)",
    413: "the run is larger than the server accepts: its admin can raise 'wattprint server --max-body-mb'",
    422: "the server refused the run's data (the field is named above); this wattprint may be newer than the "
         "server: upgrade the server",
}


class ServerError(WattprintError):
    """A request to the team server failed; ``status`` is the HTTP status (None when there was no answer)."""

    def __init__(self, message: str, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        """The server's own explanation (its problem details' ``detail``), if it gave one."""


class ServerUnavailable(ServerError):
    """The server could not be reached or failed (5xx): worth trying again later."""


class ServerRefused(ServerError):
    """The server refused the request (4xx): trying again unchanged gives the same answer."""


@dataclass(frozen=True)
class Ack:
    """The server's answer to a run sent: the stored run's ``updated_at``, and whether this state was stored
    (False when the server had a newer one already: acknowledged all the same)."""

    run_id: str
    updated_at: float
    stored: bool


def server_url(url: str) -> str:
    """The server's base URL, as the outbox marks name it: no trailing slash, no ``/api/v1``."""
    text = str(url).strip()
    if not text.lower().startswith(("http://", "https://")):
        raise ConfigError(f"server {text!r} is not a server URL: give http://HOST:PORT (what 'wattprint server' "
                          "prints at start)")
    text = text.rstrip("/")
    if text.endswith(API_PATH):
        text = text[: -len(API_PATH)]
    return text


def _reveal(token: object) -> str | None:
    """The token's value: a plain string, or a settings ``Secret`` (revealed only for the request header)."""
    if token is None:
        return None
    reveal = getattr(token, "reveal", None)
    value = reveal() if callable(reveal) else token
    return str(value).strip() or None


class ServerClient:
    """One team server's API v1, over one kept-alive connection pool; ``token`` may be a settings ``Secret``."""

    def __init__(self, url: str, token: object = None, *, timeout_s: float = TIMEOUT_S,
                 connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.url = server_url(url)
        self._token = token
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._http: Any = None

    def __repr__(self) -> str:
        return f"ServerClient({self.url!r})"  # never the token

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connections; the next request opens new ones."""
        http, self._http = self._http, None
        if http is not None:
            http.close()

    # -- the API -------------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /health``: the server's status and version."""
        answer: dict[str, Any] = self._request("GET", "/health")
        return answer

    def put_run(self, document: RunDocument, *, timeout_s: float | None = None) -> Ack:
        """``PUT /runs/{id}``: the run, its totals, intervals and tasks (all or the changed ones); sending the same
        state again changes nothing, and an older one never replaces a newer."""
        from wattprint.core.codec import to_dict

        run_id = document.run.run_id
        body = json.dumps(to_dict(document), ensure_ascii=False, allow_nan=False).encode("utf-8")
        answer = self._request("PUT", f"/runs/{_quote(run_id)}", content=body, timeout_s=timeout_s,
                               what=f"run {run_id}")
        try:
            return Ack(str(answer["run_id"]), float(answer["updated_at"]), bool(answer["stored"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ServerUnavailable(f"{self.url} answered a run sent with {shown_json(answer)}, not an "
                                    f"acknowledgement ({error}): is it a wattprint server?") from error

    def iter_runs(self, *, project: str | None = None, status: str | None = None,
                  limit: int | None = None, **filters: str | list[str]) -> Iterator[RunRecord]:
        """``GET /runs``, page by page: runs newest first, at most ``limit`` (None: all); a filter given a list is
        sent once per value (``tag=["a", "b"]``: runs with both tags)."""
        from wattprint.api.records import RunRecord
        from wattprint.core.codec import from_dict

        params: dict[str, Any] = {k: v for k, v in dict(filters, project=project, status=status).items()
                                  if v is not None}
        cursor = None
        count = 0
        while limit is None or count < limit:
            page = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - count)
            answer = self._request("GET", "/runs", params={**params, "limit": page,
                                                           **({"cursor": cursor} if cursor else {})})
            for item in answer.get("items", []):
                yield from_dict(RunRecord, item)
                count += 1
            cursor = answer.get("next_cursor")
            if not cursor or not answer.get("items"):
                return

    def runs(self, **filters: Any) -> list[RunRecord]:
        """Runs as :meth:`iter_runs` gives them, in a list."""
        return list(self.iter_runs(**filters))

    def run(self, ref: str) -> RunDocument:
        """``GET /runs/{ref}``: a run by id or unique prefix, with its components, intervals and tasks; LookupError
        when the server has no such run."""
        from wattprint.api.records import RunDocument
        from wattprint.core.codec import from_dict

        try:
            answer = self._request("GET", f"/runs/{_quote(ref.strip())}", what=f"run {ref}")
        except ServerRefused as error:
            if error.status == 404:
                raise LookupError(f"no run matches {ref!r} on the server {self.url}") from error
            if error.status == 409:  # a prefix of several runs, or of none: the server says which
                raise LookupError(f"{error.detail or 'no single run matches ' + repr(ref)} (on the server "
                                  f"{self.url})") from error
            raise
        return from_dict(RunDocument, answer)

    def projects(self) -> list[dict[str, Any]]:
        """``GET /projects``: each project's name and totals."""
        items: list[dict[str, Any]] = self._request("GET", "/projects").get("items", [])
        return items

    # -- plumbing ------------------------------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._http is None:
            import httpx

            headers = {"Accept": "application/json", "Content-Type": "application/json",
                       "User-Agent": f"wattprint/{_version()}"}
            token = _reveal(self._token)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            self._http = httpx.Client(base_url=self.url + API_PATH, headers=headers, follow_redirects=True,
                                      timeout=httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s))
        return self._http

    def _request(self, method: str, path: str, *, what: str = "", timeout_s: float | None = None,
                 **options: Any) -> Any:
        import httpx

        client = self._client()
        if timeout_s is not None:
            options["timeout"] = httpx.Timeout(timeout_s, connect=min(self.connect_timeout_s, timeout_s))
        try:
            response = client.request(method, path, **options)
        except httpx.HTTPError as error:
            reason = str(error) or type(error).__name__
            raise ServerUnavailable(f"the server {self.url} cannot be reached ({reason}): is it running, and is "
                                    "that its URL?") from error
        if response.status_code >= 400:
            raise _failure(self.url, response, what or f"{method} {path}")
        try:
            return response.json()
        except ValueError as error:
            raise ServerUnavailable(f"{self.url} answered {method} {path} with something other than JSON: is it "
                                    "a wattprint server? Check the server setting.") from error


def _failure(url: str, response: Any, what: str) -> ServerError:
    """The error for a 4xx or 5xx answer: the server's problem details, then the fix."""
    status = int(response.status_code)
    problem: Mapping[str, Any] = {}
    try:
        parsed = response.json()
        if isinstance(parsed, dict):
            problem = parsed
    except ValueError:
        pass
    title = str(problem.get("title") or response.reason_phrase or "error")
    detail = str(problem.get("detail") or "")
    fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in problem.get("errors") or ()
                       if isinstance(e, dict))
    message = f"the server {url} {'failed on' if status >= 500 else 'refused'} {what}: {status} {title}"
    if detail:
        message += f": {detail}"
    if fields:
        message += f" ({fields})"
    if status >= 500 or status in (408, 429):
        return ServerUnavailable(message, status, detail)
    fix = _FIXES.get(status)
    return ServerRefused(f"{message}; {fix}" if fix and fix not in message else message, status, detail)


def _quote(segment: str) -> str:
    """``segment`` as one path segment, whatever it holds (urllib.parse is imported with the first request)."""
    from urllib.parse import quote

    return quote(segment, safe="")


def shown_json(value: object, limit: int = 80) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _version() -> str:
    from wattprint._version import __version__

    return __version__
