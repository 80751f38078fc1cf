"""Offline by default: a default run opens no connection to anything but loopback, and never imports httpx."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

import wattprint
from wattprint.accounting.equivalents import format_equivalents
from wattprint.accounting.footprint import account
from wattprint.carbon import locate, resolve_location


def _is_loopback(host: object) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the local host
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a host name to resolve: that alone is a query leaving the machine


class NetworkGuard:
    """Records, and refuses, every attempt to reach a non-loopback address."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def refuse(self, what: str) -> OSError:
        self.attempts.append(what)
        return ConnectionRefusedError(f"wattprint test: network access to {what} refused")


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    recorder = NetworkGuard()
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_create_connection = socket.create_connection
    original_getaddrinfo = socket.getaddrinfo

    def inet_target(sock: socket.socket, address: object) -> str | None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return None  # Unix sockets, netlink and the like are not the network
        return None if _is_loopback(address[0]) else f"{address[0]}:{address[1]}"

    def connect(self: socket.socket, address: object) -> None:
        target = inet_target(self, address)
        if target is not None:
            raise recorder.refuse(f"connect {target}")
        original_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        target = inet_target(self, address)
        if target is not None:
            recorder.refuse(f"connect_ex {target}")
            return 111
        return original_connect_ex(self, address)  # type: ignore[arg-type]

    def create_connection(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        if not _is_loopback(address[0]):
            raise recorder.refuse(f"create_connection {address[0]}:{address[1]}")
        return original_create_connection(address, *args, **kwargs)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if not _is_loopback(host):
            raise recorder.refuse(f"getaddrinfo {host}")
        return original_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield recorder


def test_a_default_run_opens_no_connection_beyond_loopback(guard: NetworkGuard, no_rapl: str) -> None:
    with wattprint.track(powercap_root=no_rapl, gpus=False) as run:
        with run.task("work"):
            sum(i * i for i in range(200_000))
    intensity = resolve_location()
    configured = locate()
    footprint = account(run.result.energy_kwh, run.result.uncertainty_rel, intensity)
    format_equivalents(footprint.emissions_g)
    assert intensity.how_located == configured.how_located == "location unknown"
    assert guard.attempts == []


def test_the_guard_catches_an_enabled_network_source(guard: NetworkGuard) -> None:
    # the control: with a network source turned on, the guard sees the attempt (and refuses it)
    intensity = resolve_location(ip_geolocation=True, geolocation_url="https://192.0.2.10/json",
                                 geolocation_timeout_s=0.5)
    assert intensity.how_located == "location unknown"
    assert any("192.0.2.10" in attempt for attempt in guard.attempts)
    guard.attempts.clear()
    intensity = resolve_location(cloud_metadata=True)  # the real metadata address, refused by the guard
    assert any("169.254.169.254" in attempt for attempt in guard.attempts)


def test_enabling_nothing_never_imports_httpx(no_rapl: str) -> None:
    code = (
        "import sys\n"
        "import wattprint\n"
        "from wattprint.accounting.footprint import account, embodied_for\n"
        "from wattprint.carbon import locate, location_hint, resolve_location\n"
        "from wattprint.accounting.equivalents import format_equivalents\n"
        "with wattprint.track(powercap_root=sys.argv[1], gpus=False) as run:\n"
        "    with run.task('work'):\n"
        "        sum(range(100_000))\n"
        "for intensity in (resolve_location(), locate(), resolve_location('FR'), locate('gcp:europe-west1')):\n"
        "    footprint = account(run.result.energy_kwh, run.result.uncertainty_rel, intensity,\n"
        "                        embodied=embodied_for(), duration_s=run.result.duration_s)\n"
        "    format_equivalents(footprint.emissions_g), location_hint(intensity)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore', 'h11', 'anyio'))\n"
        "assert not loaded, loaded\n"
    )
    env = {**os.environ, "WATTPRINT_STORE": "off"}
    completed = subprocess.run([sys.executable, "-c", code, no_rapl], capture_output=True, text=True, timeout=120,
                               env=env)
    assert completed.returncode == 0, completed.stderr
