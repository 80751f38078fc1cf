"""Where the machine is: lookups of every kind of location key, the order of the sources, cloud metadata and IP
geolocation against real HTTP servers on 127.0.0.1, the unknown-location path and its hint."""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from wattprint import data
from wattprint.carbon import (
    HOW_ARGUMENT,
    HOW_CONFIG,
    HOW_GEOLOCATION,
    HOW_UNKNOWN,
    cloud_metadata_region,
    intensity_uncertainty,
    locate,
    location_hint,
    resolve_location,
)
from wattprint.carbon.intensity import (
    AGE_UNCERTAINTY_PER_YEAR,
    CLOUD_CCF_UNCERTAINTY,
    CLOUD_MAPPING_UNCERTAINTY,
    GEOLOCATION_UNCERTAINTY,
    UNDATED_UNCERTAINTY,
    UNKNOWN_LOCATION_UNCERTAINTY,
)
from wattprint.core.errors import ConfigError
from wattprint.settings.config import load_config

YEAR = 2025  # the reference year of every uncertainty checked here: Ember 2024 data is then one year old

# -- a real HTTP server on loopback ----------------------------------------------------------------------------------

Reply = tuple[int, dict[str, str], bytes]
Route = Callable[["Request"], Reply]


class Request:
    def __init__(self, method: str, path: str, headers: dict[str, str]) -> None:
        self.method, self.path, self.headers = method, path, headers


class LoopbackServer:
    """An HTTP server on 127.0.0.1 answering each (method, path) with a route; it records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[Request] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
                owner.requests.append(request)
                route = owner.routes.get((self.command, self.path))
                status, headers, body = route(request) if route else (404, {}, b"not found")
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (the time budget ran out): nothing to do
                    pass

            do_GET = do_PUT = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    s = LoopbackServer()
    yield s
    s.close()


@pytest.fixture
def second_server() -> Iterator[LoopbackServer]:
    s = LoopbackServer()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables; requests to the loopback servers must go straight to them."""
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)


def text(body: str, status: int = 200, **headers: str) -> Route:
    return lambda request: (status, {"Content-Type": "text/plain", **headers}, body.encode())


def slow(seconds: float, route: Route) -> Route:
    def answer(request: Request) -> Reply:
        time.sleep(seconds)
        return route(request)

    return answer


def gcp_routes(server: LoopbackServer, zone: str = "projects/123456/zones/europe-west1-b") -> None:
    def zone_route(request: Request) -> Reply:
        if request.headers.get("metadata-flavor") != "Google":
            return 403, {}, b"missing Metadata-Flavor"
        return 200, {"Metadata-Flavor": "Google"}, zone.encode()

    server.routes[("GET", "/computeMetadata/v1/instance/zone")] = zone_route


def aws_routes(server: LoopbackServer, region: str = "eu-west-3") -> None:
    def token(request: Request) -> Reply:
        if "x-aws-ec2-metadata-token-ttl-seconds" not in request.headers:
            return 400, {}, b"missing ttl"
        return 200, {}, b"AQAEAtoken=="

    def region_route(request: Request) -> Reply:
        if request.headers.get("x-aws-ec2-metadata-token") != "AQAEAtoken==":
            return 401, {}, b"unauthorized"
        return 200, {}, region.encode()

    server.routes[("PUT", "/latest/api/token")] = token
    server.routes[("GET", "/latest/meta-data/placement/region")] = region_route


AZURE_PATH = "/metadata/instance/compute/location?api-version=2021-02-01&format=text"


def azure_routes(server: LoopbackServer, location: str = "westeurope") -> None:
    def location_route(request: Request) -> Reply:
        if request.headers.get("metadata") != "true":
            return 400, {}, b"missing Metadata header"
        return 200, {}, location.encode()

    server.routes[("GET", AZURE_PATH)] = location_route


def json_route(payload: object) -> Route:
    return lambda request: (200, {"Content-Type": "application/json"}, json.dumps(payload).encode())


# -- every kind of location key ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "zone", "kind"),
    [
        ("FR", "FR", "country"),
        ("fra", "FR", "country"),  # ISO alpha-3, any case
        ("DEU", "DE", "country"),
        ("XK", "XK", "country"),
        ("WORLD", "WORLD", "world"),
        ("US-CA", "US-CA", "us-state"),
        ("us-dc", "US-DC", "us-state"),
        ("egrid:CAMX", "egrid:CAMX", "egrid"),
        ("egrid:us", "egrid:US", "egrid"),
        ("IN-MH", "IN-MH", "in-state"),
        ("IN-TG", "IN-TS", "in-state"),  # the older ISO code is an alias
        ("CN-BJ", "CN-BJ", "cn-province"),
        ("CA-QC", "CA-QC", "ca-province"),
        ("SE3", "SE3", "nordic-zone"),
        ("SE-SE3", "SE3", "nordic-zone"),
        ("NO1", "NO1", "nordic-zone"),
        ("em:US-CAL-CISO", "em:US-CAL-CISO", "em-zone"),
        ("gcp:europe-west1", "gcp:europe-west1", "cloud-region"),
        ("google:us-central1", "gcp:us-central1", "cloud-region"),
        ("aws:us-east-1", "aws:us-east-1", "cloud-region"),
        ("azure:westeurope", "azure:westeurope", "cloud-region"),
        ("Azure:West Europe", "azure:westeurope", "cloud-region"),
        ("ovh:gra", "ovh:gra", "cloud-region"),
        ("scaleway:fr-par", "scaleway:paris", "cloud-region"),
        ("coreweave:lga1", "coreweave:lga1", "cloud-region"),
        ("seeweb:fro2", "seeweb:fro2", "cloud-region"),
    ],
)
def test_every_kind_of_location_key_is_looked_up(given: str, zone: str, kind: str) -> None:
    record = data.lookup_intensity(zone)
    assert record is not None
    intensity = resolve_location(given, reference_year=YEAR)
    assert intensity.zone == zone
    assert intensity.location_kind == kind
    assert intensity.g_per_kwh == record.intensity_g_per_kwh
    assert (intensity.source, intensity.year, intensity.licence, intensity.basis) == (
        record.source, record.year, record.licence, record.basis
    )
    assert intensity.kind == "average"
    assert intensity.how_located == HOW_ARGUMENT
    assert 0.05 <= intensity.uncertainty_rel <= 0.3
    if kind == "cloud-region":
        assert intensity.provider == zone.split(":")[0]
        assert intensity.grid_zone == record.zone
    else:
        assert intensity.provider is None
    assert json.loads(json.dumps(intensity.to_dict()))["zone"] == zone


def test_google_regions_carry_their_carbon_free_share() -> None:
    intensity = resolve_location("gcp:europe-west1")
    record = data.lookup_intensity("gcp:europe-west1")
    assert record is not None and record.cfe_fraction is not None
    assert intensity.cfe_share == record.cfe_fraction


# -- uncertainties -------------------------------------------------------------------------------------------------


def test_uncertainties_follow_the_documented_rules() -> None:
    def u(key: str, year: int = YEAR) -> float:
        return resolve_location(key, reference_year=year).uncertainty_rel

    # FR: Ember 2024, used in 2025 -> within the usual one-year lag -> the 10 % national base alone
    assert u("FR") == pytest.approx(0.10)
    # used in 2027: two years beyond the lag -> sqrt(0.10^2 + (2 x 0.03)^2) = sqrt(0.0136) = 0.11662
    assert u("FR", 2027) == pytest.approx(math.sqrt(0.10**2 + 0.06**2))
    assert u("FR", 2027) == pytest.approx(0.116619, abs=1e-6)
    # US-CA: eGRID 2023, used in 2025 -> sqrt(0.15^2 + 0.03^2) = 0.152971
    assert u("US-CA") == pytest.approx(math.hypot(0.15, AGE_UNCERTAINTY_PER_YEAR))
    # CA-QC: a derived mix (2023) -> sqrt(0.20^2 + 0.03^2)
    assert u("CA-QC") == pytest.approx(math.hypot(0.20, 0.03))
    # aws:us-east-1: a CCF factor without a year -> sqrt(0.20^2 + 0.15^2) = 0.25
    assert u("aws:us-east-1") == pytest.approx(math.hypot(CLOUD_CCF_UNCERTAINTY, UNDATED_UNCERTAINTY))
    assert u("aws:us-east-1") == pytest.approx(0.25)
    # ovh:gra: priced with the FR grid factor (2024) it was mapped to -> sqrt(0.10^2 + 0.05^2)
    assert u("ovh:gra") == pytest.approx(math.hypot(0.10, CLOUD_MAPPING_UNCERTAINTY))
    # gcp:europe-west1: Google's own 2024 figure for the region -> 10 %
    assert u("gcp:europe-west1") == pytest.approx(0.10)
    # older data is never more certain
    assert u("FR", 2030) > u("FR", 2026) > u("FR")


def test_the_unknown_location_uncertainty_covers_the_spread_of_country_averages() -> None:
    world = data.world_intensity()
    countries = [r.intensity_g_per_kwh for r in data.intensity_records(kind="country")]
    spread = statistics.pstdev(countries) / world.intensity_g_per_kwh  # 0.52 with the 2024 tables
    assert spread < UNKNOWN_LOCATION_UNCERTAINTY
    assert intensity_uncertainty(world, HOW_UNKNOWN, reference_year=YEAR) == pytest.approx(0.60)


# -- the unknown location ------------------------------------------------------------------------------------------


def test_nothing_given_is_the_world_average_marked_unknown_with_a_hint() -> None:
    intensity = resolve_location(reference_year=YEAR)
    world = data.world_intensity()
    assert intensity.zone == "WORLD"
    assert intensity.g_per_kwh == world.intensity_g_per_kwh
    assert intensity.how_located == HOW_UNKNOWN == "location unknown"
    assert not intensity.location_known
    assert intensity.uncertainty_rel >= 0.5
    hint = location_hint(intensity)
    assert hint is not None and hint == location_hint()
    for way in ('location="FR"', "WATTPRINT_LOCATION", "wattprint.toml", "cloud_metadata"):
        assert way in hint
    assert "\n" not in hint
    assert hint in intensity.notes
    assert "location unknown" in intensity.describe()


def test_a_located_intensity_needs_no_hint() -> None:
    assert location_hint(resolve_location("FR")) is None


# -- bad location strings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "suggested"),
    [("Frnace", "'FR'"), ("gcp:europe-west99", "'gcp:europe-west9'"), ("US-CAL", "'US-CA'"),
     ("germany", "'DE'"), ("california", "'US-CA'")],
)
def test_an_unknown_location_is_an_error_with_a_suggestion(given: str, suggested: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_location(given)
    message = str(raised.value)
    assert repr(given) in message and "from argument" in message
    assert "did you mean" in message and suggested in message


@pytest.mark.parametrize("given", ["", "   ", 42])
def test_an_empty_or_non_string_location_is_an_error(given: object) -> None:
    with pytest.raises(ConfigError, match="non-empty string"):
        resolve_location(given)  # type: ignore[arg-type]


def test_an_unknown_configured_location_names_its_source() -> None:
    with pytest.raises(ConfigError, match="environment variable WATTPRINT_LOCATION"):
        resolve_location(configured="Atlantis", configured_from="environment variable WATTPRINT_LOCATION")


# -- precedence ----------------------------------------------------------------------------------------------------


def test_an_argument_wins_over_the_configured_location(server: LoopbackServer) -> None:
    gcp_routes(server)
    intensity = resolve_location("FR", configured="DE", cloud_metadata=True, metadata_urls={"gcp": server.url})
    assert (intensity.zone, intensity.how_located) == ("FR", HOW_ARGUMENT)
    assert server.requests == []  # nothing further was asked


def test_the_configured_location_wins_over_cloud_metadata_and_geolocation(
    server: LoopbackServer, second_server: LoopbackServer
) -> None:
    gcp_routes(server)
    second_server.routes[("GET", "/json")] = json_route({"country": "US", "region": "Texas"})
    intensity = resolve_location(configured="DE", cloud_metadata=True, metadata_urls={"gcp": server.url},
                                 ip_geolocation=True, geolocation_url=second_server.url + "/json")
    assert (intensity.zone, intensity.how_located) == ("DE", HOW_CONFIG)
    assert server.requests == [] and second_server.requests == []


def test_cloud_metadata_wins_over_geolocation(server: LoopbackServer, second_server: LoopbackServer) -> None:
    gcp_routes(server)
    second_server.routes[("GET", "/json")] = json_route({"country": "US", "region": "Texas"})
    intensity = resolve_location(cloud_metadata=True, metadata_urls={"gcp": server.url},
                                 ip_geolocation=True, geolocation_url=second_server.url + "/json")
    assert (intensity.zone, intensity.how_located) == ("gcp:europe-west1", "cloud metadata (gcp)")
    assert second_server.requests == []


def test_geolocation_answers_when_cloud_metadata_does_not(server: LoopbackServer,
                                                          second_server: LoopbackServer) -> None:
    server.routes[("GET", "/computeMetadata/v1/instance/zone")] = text("oops", status=500)
    second_server.routes[("GET", "/json")] = json_route({"country": "US", "region": "Texas"})
    intensity = resolve_location(cloud_metadata=True, metadata_urls={"gcp": server.url},
                                 ip_geolocation=True, geolocation_url=second_server.url + "/json",
                                 reference_year=YEAR)
    assert (intensity.zone, intensity.how_located) == ("US-TX", HOW_GEOLOCATION)
    assert any("HTTP 500" in note for note in intensity.notes)


def test_network_sources_are_not_asked_unless_enabled(server: LoopbackServer) -> None:
    gcp_routes(server)
    server.routes[("GET", "/json")] = json_route({"country": "FR"})
    intensity = resolve_location(metadata_urls={"gcp": server.url}, geolocation_url=server.url + "/json")
    assert intensity.how_located == HOW_UNKNOWN
    assert server.requests == []


def test_locate_reads_the_location_from_the_environment(tmp_path: Path) -> None:
    config = load_config(cwd=str(tmp_path), environ={"WATTPRINT_LOCATION": "US-CA"}, user_config=os.devnull)
    intensity = locate(config=config)
    assert (intensity.zone, intensity.how_located) == ("US-CA", HOW_CONFIG)
    assert any("environment variable WATTPRINT_LOCATION" in note for note in intensity.notes)
    assert locate("FR", config=config).how_located == HOW_ARGUMENT  # an argument still wins


def test_locate_reads_a_project_file_and_counts_a_tracker_argument_as_an_argument(tmp_path: Path) -> None:
    (tmp_path / "wattprint.toml").write_text('location = "SE3"\n')
    from_file = locate(config=load_config(cwd=str(tmp_path), environ={}, user_config=os.devnull))
    assert (from_file.zone, from_file.how_located) == ("SE3", HOW_CONFIG)
    as_argument = locate(config=load_config({"location": "IN-MH"}, cwd=str(tmp_path), environ={},
                                            user_config=os.devnull))
    assert (as_argument.zone, as_argument.how_located) == ("IN-MH", HOW_ARGUMENT)


def test_locate_enables_cloud_metadata_from_the_settings(tmp_path: Path, server: LoopbackServer) -> None:
    azure_routes(server)
    environ = {"WATTPRINT_CLOUD_METADATA": "true"}
    config = load_config(cwd=str(tmp_path), environ=environ, user_config=os.devnull)
    intensity = locate(config=config, metadata_urls={"azure": server.url})
    assert (intensity.zone, intensity.how_located) == ("azure:westeurope", "cloud metadata (azure)")


def test_locate_with_no_settings_is_unknown(tmp_path: Path) -> None:
    config = load_config(cwd=str(tmp_path), environ={}, user_config=os.devnull)
    assert locate(config=config).how_located == HOW_UNKNOWN


# -- cloud metadata against a real server ----------------------------------------------------------------------------


def test_gcp_metadata_gives_the_region_of_the_zone(server: LoopbackServer) -> None:
    gcp_routes(server, "projects/987/zones/us-central1-f")
    intensity = resolve_location(cloud_metadata=True, metadata_urls={"gcp": server.url})
    assert (intensity.zone, intensity.provider, intensity.how_located) == (
        "gcp:us-central1", "gcp", "cloud metadata (gcp)")
    assert server.requests[0].headers["metadata-flavor"] == "Google"


def test_aws_metadata_uses_an_imdsv2_token(server: LoopbackServer) -> None:
    aws_routes(server, "eu-west-3")
    intensity = resolve_location(cloud_metadata=True, metadata_urls={"aws": server.url})
    assert (intensity.zone, intensity.how_located) == ("aws:eu-west-3", "cloud metadata (aws)")
    assert [(r.method, r.path) for r in server.requests] == [
        ("PUT", "/latest/api/token"), ("GET", "/latest/meta-data/placement/region")]


def test_azure_metadata_gives_the_location(server: LoopbackServer) -> None:
    azure_routes(server, "westeurope")
    intensity = resolve_location(cloud_metadata=True, metadata_urls={"azure": server.url})
    assert (intensity.zone, intensity.how_located) == ("azure:westeurope", "cloud metadata (azure)")
    assert server.requests[0].path == AZURE_PATH


def test_all_three_services_asked_at_once_the_one_that_answers_wins(server: LoopbackServer) -> None:
    aws_routes(server, "us-west-2")  # GCP and Azure paths answer 404 on this server, as on a real EC2 instance
    urls = {"gcp": server.url, "aws": server.url, "azure": server.url}
    answer, notes = cloud_metadata_region(urls)
    assert answer is not None and (answer.provider, answer.region) == ("aws", "us-west-2")
    intensity = resolve_location(cloud_metadata=True, metadata_urls=urls)
    assert intensity.zone == "aws:us-west-2"


@pytest.mark.parametrize("status", [404, 500])
def test_metadata_errors_fall_through_to_unknown(server: LoopbackServer, status: int) -> None:
    server.routes[("GET", "/computeMetadata/v1/instance/zone")] = text("error", status=status)
    server.routes[("PUT", "/latest/api/token")] = text("error", status=status)
    server.routes[("GET", AZURE_PATH)] = text("error", status=status)
    urls = {"gcp": server.url, "aws": server.url, "azure": server.url}
    intensity = resolve_location(cloud_metadata=True, metadata_urls=urls)
    assert intensity.how_located == HOW_UNKNOWN
    summary = " ".join(intensity.notes)
    for provider in ("gcp", "aws", "azure"):
        assert f"{provider}: HTTP {status}" in summary


@pytest.mark.parametrize(
    "install",
    [
        lambda s: s.routes.__setitem__(("GET", "/computeMetadata/v1/instance/zone"),
                                       text("<html>hello</html>", **{"Metadata-Flavor": "Google"})),
        lambda s: s.routes.__setitem__(("GET", "/computeMetadata/v1/instance/zone"),
                                       text("projects/1/zones/europe-west1-b")),  # no Metadata-Flavor header
        lambda s: aws_routes(s, "not a region\x00\xff"),
        lambda s: azure_routes(s, "West Europe; DROP TABLE"),
        lambda s: s.routes.__setitem__(("GET", AZURE_PATH), lambda r: (200, {}, bytes(range(256)) * 40)),
    ],
    ids=["gcp-html", "gcp-no-flavor", "aws-garbage", "azure-garbage", "azure-binary"],
)
def test_garbage_from_a_metadata_service_is_not_believed(server: LoopbackServer,
                                                         install: Callable[[LoopbackServer], None]) -> None:
    install(server)
    urls = {"gcp": server.url, "aws": server.url, "azure": server.url}
    intensity = resolve_location(cloud_metadata=True, metadata_urls=urls)
    assert intensity.how_located == HOW_UNKNOWN


def test_a_region_missing_from_the_tables_is_said_and_not_guessed(server: LoopbackServer) -> None:
    gcp_routes(server, "projects/1/zones/mars-north1-a")
    intensity = resolve_location(cloud_metadata=True, metadata_urls={"gcp": server.url})
    assert intensity.how_located == HOW_UNKNOWN
    assert any("mars-north1" in note and "not in the intensity table" in note for note in intensity.notes)


def test_slow_metadata_services_cost_at_most_the_budget(server: LoopbackServer) -> None:
    # every service answers correctly, but only after 5 s: far beyond the 200 ms budget
    gcp_routes(server)
    aws_routes(server)
    azure_routes(server)
    for key, route in list(server.routes.items()):
        server.routes[key] = slow(5.0, route)
    urls = {"gcp": server.url, "aws": server.url, "azure": server.url}
    cloud_metadata_region({"azure": server.url}, timeout_s=0.01)  # warm up the imports outside the measurement
    started = time.perf_counter()
    intensity = resolve_location(cloud_metadata=True, metadata_urls=urls, metadata_timeout_s=0.2)
    elapsed = time.perf_counter() - started
    print(f"three slow metadata services: gave up after {elapsed * 1000:.0f} ms (budget 200 ms)")
    assert intensity.how_located == HOW_UNKNOWN
    assert 0.19 <= elapsed < 2.5  # the budget, not the services' 5 s (with room for a busy machine)
    assert any("no answer within 200 ms" in note for note in intensity.notes)


def test_a_silent_listener_costs_at_most_the_budget() -> None:
    # a socket that listens and never answers: the connection opens, and nothing ever comes back
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        started = time.perf_counter()
        answer, notes = cloud_metadata_region({"gcp": base, "aws": base, "azure": base}, timeout_s=0.2)
        elapsed = time.perf_counter() - started
    finally:
        listener.close()
    print(f"silent listener: gave up after {elapsed * 1000:.0f} ms (budget 200 ms)")
    assert answer is None and len(notes) == 3
    assert elapsed < 2.5  # the budget, not forever (with room for a busy machine)


def test_a_closed_port_fails_fast() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    intensity = resolve_location(cloud_metadata=True, metadata_urls={"gcp": base, "aws": base, "azure": base},
                                 metadata_timeout_s=10.0)
    assert time.perf_counter() - started < 5.0  # refused at once, not waited for (room for a busy machine)
    assert intensity.how_located == HOW_UNKNOWN
    assert any("ConnectionRefused" in note for note in intensity.notes)


def test_unknown_metadata_providers_are_an_error() -> None:
    with pytest.raises(ConfigError, match="oracle"):
        cloud_metadata_region({"oracle": "http://127.0.0.1:9"})


# -- IP geolocation against a real server ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "zone"),
    [
        ({"ip": "203.0.113.9", "country": "US", "region": "California"}, "US-CA"),  # ipinfo.io
        ({"country_code": "IN", "region_code": "MH", "region": "Maharashtra"}, "IN-MH"),  # ipapi.co
        ({"countryCode": "CA", "region": "QC", "regionName": "Quebec"}, "CA-QC"),  # ip-api.com
        ({"country": "CA", "region": "Québec"}, "CA-QC"),  # accents do not matter
        ({"country": "CN", "region": "Beijing"}, "CN-BJ"),
        ({"country": "FR", "region": "Île-de-France"}, "FR"),  # no French regions in the tables: the country
        ({"country": "US", "region": "Atlantis"}, "US"),  # an unknown state: the country
        ({"country": "de"}, "DE"),
    ],
)
def test_geolocation_answers_map_to_a_country_or_state(server: LoopbackServer, payload: dict[str, str],
                                                       zone: str) -> None:
    server.routes[("GET", "/json")] = json_route(payload)
    intensity = resolve_location(ip_geolocation=True, geolocation_url=server.url + "/json", reference_year=YEAR)
    assert (intensity.zone, intensity.how_located) == (zone, HOW_GEOLOCATION)
    record = data.lookup_intensity(zone)
    assert record is not None
    plain = intensity_uncertainty(record, HOW_ARGUMENT, reference_year=YEAR)
    assert intensity.uncertainty_rel == pytest.approx(math.hypot(plain, GEOLOCATION_UNCERTAINTY))


@pytest.mark.parametrize(
    "route",
    [text("not json at all"), text("{}", status=500), json_route({"country": "ZZ"}), json_route(["FR"]),
     json_route({"bogon": True})],
    ids=["garbage", "http-500", "unknown-country", "not-an-object", "no-country"],
)
def test_geolocation_failures_fall_through_to_unknown(server: LoopbackServer, route: Route) -> None:
    server.routes[("GET", "/json")] = route
    intensity = resolve_location(ip_geolocation=True, geolocation_url=server.url + "/json")
    assert intensity.how_located == HOW_UNKNOWN
    assert any(note.startswith("ip geolocation:") for note in intensity.notes)


def test_a_slow_geolocation_service_times_out(server: LoopbackServer) -> None:
    server.routes[("GET", "/json")] = slow(10.0, json_route({"country": "FR"}))
    import httpx  # noqa: F401 - imported before the clock starts: the timeout is about waiting, not importing

    started = time.perf_counter()
    intensity = resolve_location(ip_geolocation=True, geolocation_url=server.url + "/json",
                                 geolocation_timeout_s=0.3)
    elapsed = time.perf_counter() - started
    print(f"slow geolocation service: gave up after {elapsed * 1000:.0f} ms (timeout 300 ms)")
    assert elapsed < 5.0  # the timeout, not the service's 10 s (with room for a busy machine)
    assert intensity.how_located == HOW_UNKNOWN
    assert any("within 0.3 s" in note for note in intensity.notes)
