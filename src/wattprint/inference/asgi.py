"""An ASGI middleware for model servers (FastAPI, Starlette, any ASGI app): every HTTP request served while the
run is going is a request of the run, labelled with its endpoint.

``app.add_middleware(EnergyMiddleware, run=run)`` (or ``EnergyMiddleware(app, run=run)``). The endpoint is the
method and the route's path template when the framework names it (``POST /v1/items/{item_id}``), else the path.
A handler states sizes through the request it is given in the ASGI scope's state:
``request.state.wattprint_request.tokens_out = n`` in FastAPI/Starlette. Pure ASGI: imports no framework.

With ``header=True`` every measured response carries ``X-Wattprint-Energy``: a *provisional* figure, since a
request's share is only settled once every request overlapping it has ended, which is after its headers are sent.
It is the energy measured from the request's arrival to its response's start, shared equally among the requests in
flight, with the method and uncertainty of its sensors, and says so: ``energy_j=0.0123; method="model";
uncertainty_rel=0.55; basis="provisional"`` (docs/inference.md). The settled figures are the run's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from wattprint._log import warn_once
from wattprint.core.errors import MAX_NAME_CHARS, ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.run.base import TrackerBase

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATE_KEY = "wattprint_request"
"""The name of the run's request in the scope's ``state`` (``request.state.wattprint_request``)."""
HEADER = b"x-wattprint-energy"
"""The response header with the request's provisional energy (``header=True``)."""


def route_name(scope: Scope) -> str:
    """``METHOD /path/{template}`` when the framework put its matched route in the scope, else the plain path
    (cut, and only printable characters kept, since a client chooses it)."""
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None) or scope.get("path", "")
    name = f"{scope.get('method', 'GET')} {path}"
    name = "".join(c for c in name if c.isprintable())
    return name[:MAX_NAME_CHARS]


class EnergyMiddleware:
    """Measure every HTTP request of ``app`` as a request of ``run`` (a running ``wattprint.Tracker``).

    Requests that arrive while the run is not going pass through unmeasured; lifespan and websocket traffic too.
    """

    def __init__(self, app: ASGIApp, run: TrackerBase | None = None, *, header: bool = False) -> None:
        if run is None or not hasattr(run, "request"):
            raise ConfigError("EnergyMiddleware needs run=, the wattprint.Tracker measuring the server: "
                              "app.add_middleware(EnergyMiddleware, run=run)")
        if not isinstance(header, bool):
            raise ConfigError(f"EnergyMiddleware's header= must be True or False, got {header!r}")
        self.app = app
        self.run = run
        self.header = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        run = self.run
        if scope.get("type") != "http" or not run.running:
            await self.app(scope, receive, send)
            return
        from wattprint.run.requests import Request

        try:
            request = Request(run, endpoint=route_name(scope)).start()
        except Exception as error:  # noqa: BLE001 - the run stopping under a request must not fail the request
            warn_once(f"asgi-request:{id(self)}", f"wattprint: a request was not measured: {error}")
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[STATE_KEY] = request

        async def responding(message: Message) -> None:
            if message.get("type") == "http.response.start":
                self._name(request, scope)  # the route is known now, and the client may stop the run once answered
                if self.header:
                    message = self._with_header(request, message)
            await send(message)

        try:
            await self.app(scope, receive, responding)
        finally:
            try:
                self._name(request, scope)
                request.stop()
            except Exception as error:  # noqa: BLE001
                warn_once(f"asgi-request-end:{id(self)}", f"wattprint: a request's end was not measured: {error}")

    @staticmethod
    def _name(request: Any, scope: Scope) -> None:
        if not request.ended:
            request.endpoint = route_name(scope)

    def _with_header(self, request: Any, message: Message) -> Message:
        try:
            energy, method, uncertainty = request.provisional()
        except Exception as error:  # noqa: BLE001 - a header we cannot make is left out, the response goes on
            warn_once(f"asgi-header:{id(self)}", f"wattprint: the energy header was left out: {error}")
            return message
        value = f'energy_j={energy:.6g}; method="{method}"; uncertainty_rel={uncertainty:.3g}; basis="provisional"'
        headers = [*message.get("headers", []), (HEADER, value.encode("ascii"))]
        return {**message, "headers": headers}
