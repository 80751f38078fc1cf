"""The ASGI middleware on a real FastAPI app served by uvicorn on 127.0.0.1, hit by concurrent clients."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import wattprint
from tests.fakes.pg import free_port
from tests.fakes.wait import wait_for
from wattprint.core.errors import ConfigError
from wattprint.inference import summarize
from wattprint.inference.asgi import EnergyMiddleware

fastapi = pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")

CLIENTS = 5


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def make_app(run: wattprint.Tracker, header: bool = False) -> Any:
    app = fastapi.FastAPI()
    entered = {"n": 0}
    all_in = asyncio.Event()

    @app.post("/generate")
    async def generate(request: fastapi.Request) -> dict[str, int]:
        body = await request.json()
        measured = getattr(request.state, "wattprint_request", None)
        words = len(body["prompt"].split())
        if measured is not None:
            measured.tokens_in = words
        entered["n"] += 1
        if entered["n"] >= CLIENTS:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), timeout=30)  # every client's request is in flight at once
        busy(0.002)
        if measured is not None:
            measured.tokens_out = 2 * words
        return {"tokens": 2 * words}

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    app.add_middleware(EnergyMiddleware, run=run, header=header)
    return app


@contextmanager
def serve(app: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, "uvicorn to start", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_concurrent_http_requests_are_measured_per_endpoint_and_add_up(model_only: dict[str, object]) -> None:
    run = wattprint.Tracker(store="off", **model_only)  # type: ignore[arg-type]
    app = make_app(run)
    with serve(app) as url:
        with run:
            errors: list[BaseException] = []

            def client(index: int) -> None:
                try:
                    with httpx.Client(base_url=url, timeout=60) as http:
                        words = " ".join(["w"] * (index + 1))
                        assert http.post("/generate", json={"prompt": words}).json() == {"tokens": 2 * (index + 1)}
                        assert http.get(f"/items/{index}").json() == {"id": index}
                except BaseException as error:  # noqa: BLE001 - reported by the main thread
                    errors.append(error)

            threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not errors
        with httpx.Client(base_url=url, timeout=60) as http:  # after the run: served, not measured
            assert http.get("/items/99").status_code == 200
    assert run.result is not None
    result = summarize(run)
    assert result is not None
    assert result.whole.requests == 2 * CLIENTS
    assert set(result.endpoints) == {"POST /generate", "GET /items/{item_id}"}
    generate = result.endpoints["POST /generate"]
    assert generate.requests == CLIENTS
    assert generate.tokens_in == sum(range(1, CLIENTS + 1)) and generate.tokens_out == 2 * generate.tokens_in
    assert result.endpoints["GET /items/{item_id}"].tokens_out is None
    posts = [r for r in result.requests if r.endpoint == "POST /generate"]
    last_start = max(r.start_s for r in posts)
    assert all(r.end_s >= last_start for r in posts)  # all in flight together
    total = sum(r.energy_j for r in result.requests) + result.idle_energy_j
    assert total == pytest.approx(run.result.energy_j, rel=1e-9)
    assert "By endpoint" in str(result) and "POST /generate" in str(result)


def test_the_response_header_is_a_labelled_provisional_figure(model_only: dict[str, object]) -> None:
    run = wattprint.Tracker(store="off", **model_only)  # type: ignore[arg-type]
    with serve(make_app(run, header=True)) as url, httpx.Client(base_url=url, timeout=60) as http:
        before = http.get("/items/1")
        with run:
            answers = [http.get(f"/items/{i}") for i in range(3)]
        after = http.get("/items/2")
    assert "x-wattprint-energy" not in before.headers and "x-wattprint-energy" not in after.headers
    for answer in answers:
        fields = dict(part.strip().split("=", 1) for part in answer.headers["x-wattprint-energy"].split(";"))
        assert set(fields) == {"energy_j", "method", "uncertainty_rel", "basis"}
        assert float(fields["energy_j"]) >= 0 and fields["method"] == '"model"'
        assert 0 < float(fields["uncertainty_rel"]) < 1 and fields["basis"] == '"provisional"'
    result = summarize(run)
    assert result is not None and result.whole.requests == 3
    assert result.whole.energy_j + result.idle_energy_j == pytest.approx(result.measured_energy_j, rel=1e-9)


def test_the_middleware_needs_a_run() -> None:
    with pytest.raises(ConfigError, match="run="):
        EnergyMiddleware(fastapi.FastAPI())
    with pytest.raises(ConfigError, match="header="):
        EnergyMiddleware(fastapi.FastAPI(), run=wattprint.Tracker(store="off"), header="yes")  # type: ignore[arg-type]
