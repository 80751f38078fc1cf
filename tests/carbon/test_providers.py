"""Live intensity providers against a real HTTP server on 127.0.0.1 replaying the providers' documented bodies
(../shared/data/api-examples: the GB bodies verbatim, the others reconstructed), and every way a request fails.

The server (``ReplayServer``, in tests/fakes/provider_server.py) is shared with test_live_accounting.py and
test_schedule.py.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.provider_server import PASSWORD, TOKEN, ReplayServer, Reply, Sleeps, at, provider
from wattprint.carbon.providers import (
    AVERAGE,
    MARGINAL,
    HttpClient,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderUnavailable,
    ResponseCache,
    RetryPolicy,
    check_provider_settings,
    make_provider,
    zone_for,
)
from wattprint.carbon.providers.base import LBS_PER_MWH_TO_G_PER_KWH, parse_time
from wattprint.core.errors import ConfigError
from wattprint.settings.config import Secret, load_config

REPO = Path(__file__).resolve().parents[2]
_RAW = os.environ.get("WATTPRINT_RAW_DATA")
EXAMPLES = (Path(_RAW) if _RAW else REPO.parent / "shared" / "data") / "api-examples"
needs_examples = pytest.mark.skipif(not (EXAMPLES / "uk-carbon-intensity").is_dir(),
                                    reason=f"the API example bodies are not in {EXAMPLES}")


def example(relative: str) -> Any:
    return json.loads((EXAMPLES / relative).read_text(encoding="utf-8"))


def uk_example(endpoint: str) -> Any:
    return example("uk-carbon-intensity/docs_example_responses.json")[endpoint]


# -- Electricity Maps ----------------------------------------------------------------------------------------------


@needs_examples
def test_electricitymaps_latest_replayed(server: ReplayServer) -> None:
    server.route("/carbon-intensity/latest", Reply(example("electricitymaps/v3_carbon-intensity_latest.json")))
    em = provider("electricitymaps", server, clock=at("2019-05-21T00:20:00Z"))
    point = em.latest("de")
    assert (point.g_per_kwh, point.kind, point.zone, point.basis) == (302.0, AVERAGE, "DE", "lifecycle")
    assert point.start_s == parse_time("2019-05-21T00:00:00Z") and point.duration_s == 3600.0
    assert not point.estimated and not point.forecast
    request = server.requests()[0]
    assert request.query == {"zone": "DE"} and request.headers["auth-token"] == TOKEN


@needs_examples
def test_electricitymaps_estimated_value_is_marked(server: ReplayServer) -> None:
    body = example("electricitymaps/v3_carbon-intensity_latest_estimated_FR.json")
    server.route("/carbon-intensity/latest", Reply(body))
    point = provider("electricitymaps", server).latest("FR")
    assert point.g_per_kwh == 83.0 and point.estimated and point.zone == "FR"


@needs_examples
def test_electricitymaps_history_and_forecast_replayed(server: ReplayServer) -> None:
    server.route("/carbon-intensity/history", Reply(example("electricitymaps/v3_carbon-intensity_history.json")))
    server.route("/carbon-intensity/forecast", Reply(example("electricitymaps/v3_carbon-intensity_forecast.json")))
    em = provider("electricitymaps", server, clock=at("2019-05-21T00:10:00Z"))
    history = em.history("DE", parse_time("2019-05-20T21:00:00Z"), parse_time("2019-05-21T00:10:00Z"))
    assert [p.g_per_kwh for p in history] == [312.0, 302.0]
    assert history[1].start_s - history[0].start_s == 3600.0
    forecast = em.forecast("DE", 6 * 3600)
    assert [p.g_per_kwh for p in forecast] == [326.0, 318.0, 307.0]
    assert all(p.forecast for p in forecast) and forecast[-1].end_s == parse_time("2019-05-21T03:00:00Z")


def test_electricitymaps_older_history_uses_past_range_and_coordinates(server: ReplayServer) -> None:
    body = {"zone": "DE", "data": [{"carbonIntensity": 250, "datetime": "2019-05-01T10:00:00.000Z"},
                                   {"carbonIntensity": None, "datetime": "2019-05-01T11:00:00.000Z"}]}
    server.route("/carbon-intensity/past-range", Reply(body))
    em = provider("electricitymaps", server, clock=at("2019-05-21T00:00:00Z"))
    points = em.history("52.52, 13.40", parse_time("2019-05-01T10:00:00Z"), parse_time("2019-05-01T12:00:00Z"))
    assert [p.g_per_kwh for p in points] == [250.0]  # a null is a gap, not a zero
    query = server.requests()[0].query
    assert query["lat"] == "52.52" and query["lon"] == "13.4" and query["start"] == "2019-05-01T10:00:00Z"


@needs_examples
def test_electricitymaps_errors_say_what_the_provider_said_and_never_the_token(server: ReplayServer) -> None:
    server.route("/carbon-intensity/latest", Reply(example("electricitymaps/v3_error_unauthorized.json"), status=401))
    em = provider("electricitymaps", server)
    with pytest.raises(ProviderAuthError, match="Invalid authentication credentials") as refused:
        em.latest("DE")
    assert TOKEN not in str(refused.value) and TOKEN not in repr(em)
    assert len(server.requests()) == 1  # a refusal is not retried
    server.route("/carbon-intensity/latest", Reply(example("electricitymaps/v3_error_zone.json"), status=404))
    with pytest.raises(ProviderError, match="Zone 'XX' does not exist") as missing:
        em.latest("XX")
    assert not isinstance(missing.value, ProviderAuthError)


# -- Carbon Intensity API (GB) ------------------------------------------------------------------------------------


@needs_examples
def test_uk_national_latest_prefers_the_actual_value(server: ReplayServer) -> None:
    server.route("/intensity", Reply(uk_example("GET /intensity")))
    point = provider("uk", server).latest("GB")
    assert point.g_per_kwh == 263.0 and not point.estimated  # actual 263, forecast 266
    assert (point.start_s, point.end_s) == (parse_time("2018-01-20T12:00Z"), parse_time("2018-01-20T12:30Z"))


@needs_examples
def test_uk_history_asks_the_documented_path(server: ReplayServer) -> None:
    path = "/intensity/2018-01-20T11:30Z/2018-01-20T13:00Z"
    server.route(path, Reply(uk_example("GET /intensity/{from}/{to}")))
    uk = provider("uk", server, clock=at("2018-01-21T00:00:00Z"))
    points = uk.history("national", parse_time("2018-01-20T12:00Z"), parse_time("2018-01-20T13:00Z"))
    assert [p.g_per_kwh for p in points] == [263.0]
    assert [s.path for s in server.requests()] == [path]


@needs_examples
def test_uk_regional_values_are_estimates_by_region_and_by_postcode(server: ReplayServer) -> None:
    server.route("/regional/regionid/3", Reply(uk_example("GET /regional/regionid/{regionid}")))
    server.route("/regional/postcode/RG10", Reply(uk_example("GET /regional/postcode/{postcode}")))
    uk = provider("uk", server)
    by_region = uk.latest("region:3")
    by_postcode = uk.latest("postcode:RG10 1AB")  # a full postcode: the outward part is asked
    assert by_region.g_per_kwh == by_postcode.g_per_kwh == 266.0
    assert by_region.estimated and by_region.zone == "region:3" and by_postcode.zone == "postcode:RG10"


@needs_examples
def test_uk_regional_forecast(server: ReplayServer) -> None:
    server.route("/regional/intensity/2018-01-20T12:00Z/fw48h/regionid/13",
                 Reply(uk_example("GET /regional/intensity/{from}/fw48h/regionid/{regionid}")))
    uk = provider("uk", server, clock=at("2018-01-20T12:05:00Z"))
    points = uk.forecast("region:13", 3600)
    assert [(p.g_per_kwh, p.forecast) for p in points] == [(266.0, True)]


def test_uk_national_forecast_keeps_actuals_as_actuals(server: ReplayServer) -> None:
    start = parse_time("2026-01-05T10:00Z")
    data = [{"from": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(start + i * 1800)),
             "to": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(start + (i + 1) * 1800)),
             "intensity": {"forecast": 200 + i, "actual": 190 if i == 0 else None, "index": "moderate"}}
            for i in range(4)]
    server.route("/intensity/2026-01-05T10:00Z/fw48h", Reply({"data": data}))
    points = provider("uk", server, clock=at("2026-01-05T10:10:00Z")).forecast("GB", 7200)
    assert [(p.g_per_kwh, p.forecast) for p in points] == [(190.0, False), (201.0, True), (202.0, True),
                                                         (203.0, True)]


# -- Energi Data Service ------------------------------------------------------------------------------------------


@needs_examples
def test_energidataservice_latest_replayed(server: ReplayServer) -> None:
    server.route("/dataset/CO2Emis", Reply(example("energidataservice/dataset_CO2Emis.json")))
    point = provider("energidataservice", server, clock=at("2019-12-09T12:30:00Z")).latest("dk1")
    assert (point.g_per_kwh, point.zone, point.duration_s) == (109.0, "DK1", 300.0)
    assert point.start_s == parse_time("2019-12-09T12:20:00Z")  # Minutes5UTC, not Minutes5DK
    query = server.requests()[0].query
    assert json.loads(query["filter"]) == {"PriceArea": ["DK1"]}
    assert query["sort"] == "Minutes5UTC DESC" and query["limit"] == "1"


@needs_examples
def test_energidataservice_forecast_replayed_oldest_first(server: ReplayServer) -> None:
    server.route("/dataset/CO2EmisProg", Reply(example("energidataservice/dataset_CO2EmisProg.json")))
    points = provider("energidataservice", server, clock=at("2018-06-22T21:47:00Z")).forecast("DK2", 3600)
    assert [p.start_s for p in points] == sorted(p.start_s for p in points) and len(points) == 2
    assert all(p.forecast and p.g_per_kwh == 27.0 and p.zone == "DK2" for p in points)


def test_energidataservice_ignores_records_of_the_other_area(server: ReplayServer) -> None:
    records = [{"Minutes5UTC": "2019-12-09T12:20:00", "PriceArea": "DK2", "CO2Emission": 40.0},
               {"Minutes5UTC": "2019-12-09T12:15:00", "PriceArea": "DK1", "CO2Emission": 120.0}]
    server.route("/dataset/CO2Emis", Reply({"dataset": "CO2Emis", "records": records}))
    assert provider("energidataservice", server, clock=at("2019-12-09T12:30:00Z")).latest("DK1").g_per_kwh == 120.0


# -- WattTime ------------------------------------------------------------------------------------------------------


def _login_route(server: ReplayServer, token: str = "tok-1") -> None:
    server.route("/login", Reply({"token": token}))


@needs_examples
def test_watttime_logs_in_and_converts_lbs_per_mwh_to_grams_per_kwh(server: ReplayServer) -> None:
    server.route("/login", Reply(example("watttime/login.json")))
    server.route("/v3/forecast", Reply(example("watttime/v3_forecast.json")))
    wt = provider("watttime", server, clock=at("2024-02-01T18:36:00Z"))
    points = wt.forecast("caiso_north", 3600)
    # 870.6 lb/MWh x 453.59237 g/lb / 1,000 kWh/MWh = 394.8975...
    assert points[0].g_per_kwh == pytest.approx(394.8975173, rel=1e-9)
    assert [p.g_per_kwh for p in points] == pytest.approx([v * 0.45359237 for v in (870.6, 868.2, 865.9)])
    assert all(p.kind == MARGINAL and p.basis == "direct" and p.forecast for p in points)
    login = server.requests("/login")[0]
    assert login.headers["authorization"] == "Basic " + base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
    forecast = server.requests("/v3/forecast")[0]
    assert forecast.headers["authorization"] == "Bearer eyJhbGciOiJIUzI1NiJ9.example-not-a-real-token"
    assert forecast.query == {"region": "CAISO_NORTH", "signal_type": "co2_moer", "horizon_hours": "1"}


@needs_examples
def test_watttime_historical_latest_signal_index_and_region_from_coordinates(server: ReplayServer) -> None:
    _login_route(server)
    server.route("/v3/historical", Reply(example("watttime/v3_historical.json")))
    server.route("/v3/signal-index", Reply(example("watttime/v3_signal-index.json")))
    server.route("/v3/region-from-loc", Reply(example("watttime/v3_region-from-loc.json")))
    wt = provider("watttime", server, clock=at("2024-01-01T00:06:00Z"))
    latest = wt.latest("37.77,-122.42")
    assert latest.g_per_kwh == pytest.approx(905.0 * LBS_PER_MWH_TO_G_PER_KWH) and latest.zone == "CAISO_NORTH"
    assert server.requests("/v3/region-from-loc")[0].query["latitude"] == "37.77"
    assert server.requests("/v3/historical")[0].query["region"] == "CAISO_NORTH"
    index = wt.signal_index("CAISO_NORTH")
    assert (index.percent, index.zone, index.signal) == (57.0, "CAISO_NORTH", "co2_moer")
    assert len(server.requests("/login")) == 1  # one token for every request


def test_watttime_logs_in_again_once_when_the_token_is_refused(server: ReplayServer) -> None:
    server.route("/login", Reply({"token": "old"}), Reply({"token": "new"}))
    body = {"data": [{"point_time": "2024-02-01T18:35:00+00:00", "value": 800.0}],
            "meta": {"units": "lbs_co2_per_mwh", "signal_type": "co2_moer", "region": "CAISO_NORTH",
                     "data_point_period_seconds": 300}}
    server.route("/v3/forecast", Reply({"error": "token expired"}, status=401), Reply(body))
    points = provider("watttime", server, clock=at("2024-02-01T18:36:00Z")).forecast("CAISO_NORTH", 600)
    assert points[0].g_per_kwh == pytest.approx(800.0 * 0.45359237)
    assert [s.headers["authorization"] for s in server.requests("/v3/forecast")] == ["Bearer old", "Bearer new"]


def test_watttime_refuses_other_units_and_signals(server: ReplayServer) -> None:
    _login_route(server)
    meta = {"units": "kg_co2_per_mwh", "signal_type": "co2_moer", "region": "CAISO_NORTH"}
    server.route("/v3/forecast", Reply({"data": [{"point_time": "2024-02-01T18:35:00Z", "value": 400.0}],
                                        "meta": meta}))
    wt = provider("watttime", server, clock=at("2024-02-01T18:36:00Z"))
    with pytest.raises(ProviderResponseError, match="unexpected units 'kg_co2_per_mwh'"):
        wt.forecast("CAISO_NORTH", 600)
    meta.update(units="lbs_co2_per_mwh", signal_type="health_damage")
    wt.cache.clear()
    with pytest.raises(ProviderResponseError, match="unexpected signal_type"):
        wt.forecast("CAISO_NORTH", 600)
    server.route("/v3/forecast", Reply({"data": [], "meta": {"region": "CAISO_NORTH"}}))
    wt.cache.clear()
    with pytest.raises(ProviderResponseError, match="missing field meta.units"):
        wt.forecast("CAISO_NORTH", 600)


def test_watttime_without_an_account_says_which_settings_to_set() -> None:
    wt = make_provider("watttime", url="http://127.0.0.1:9")
    with pytest.raises(ProviderAuthError, match="watttime_username and watttime_password"):
        wt.forecast("CAISO_NORTH", 600)


# -- failures shared by every provider ----------------------------------------------------------------------------


def _latest_body(value: float = 300.0) -> dict[str, Any]:
    return {"zone": "DE", "carbonIntensity": value, "datetime": "2019-05-21T00:00:00.000Z", "isEstimated": False}


def test_429_waits_for_retry_after_then_succeeds(server: ReplayServer) -> None:
    server.route("/carbon-intensity/latest", Reply({"message": "slow down"}, status=429, headers={"Retry-After": "1"}),
                 Reply(_latest_body()))
    em = provider("electricitymaps", server, sleep=time.sleep)
    begun = time.monotonic()
    assert em.latest("DE").g_per_kwh == 300.0
    assert time.monotonic() - begun >= 1.0  # the real wait the provider asked for
    assert len(server.requests()) == 2


def test_429_with_a_longer_retry_after_than_allowed_is_reported_not_waited(server: ReplayServer) -> None:
    server.route("/carbon-intensity/latest", Reply({}, status=429, headers={"Retry-After": "120"}))
    sleeps = Sleeps()
    with pytest.raises(ProviderRateLimited, match="retry after 120 s") as limited:
        provider("electricitymaps", server, sleep=sleeps).latest("DE")
    assert limited.value.retry_after_s == 120.0 and sleeps.calls == [] and len(server.requests()) == 1


def test_429_retry_after_as_an_http_date(server: ReplayServer) -> None:
    server.route("/carbon-intensity/latest",
                 Reply({}, status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}),
                 Reply(_latest_body()))
    sleeps = Sleeps()
    em = provider("electricitymaps", server, sleep=sleeps, clock=at("2015-10-21T07:28:00Z"))
    em.latest("DE")
    assert sleeps.calls == [30.0]


def test_5xx_is_retried_with_exponential_backoff_then_succeeds(server: ReplayServer) -> None:
    server.route("/carbon-intensity/latest", Reply({"message": "down"}, status=503), Reply("oops", status=502),
                 Reply(_latest_body(280.0)))
    sleeps = Sleeps()
    assert provider("electricitymaps", server, sleep=sleeps).latest("DE").g_per_kwh == 280.0
    assert sleeps.calls == [0.5, 1.0]  # base 0.5 s, doubled (the jitter factor is fixed at 1 here)


def test_backoff_has_jitter() -> None:
    policy = RetryPolicy(base_s=2.0, max_delay_s=5.0)
    assert policy.delay_s(1, lambda: 0.0) == 1.0 and policy.delay_s(1, lambda: 1.0) == 2.0
    assert policy.delay_s(3, lambda: 1.0) == 5.0  # 8 s, capped
    assert len({policy.delay_s(2) for _ in range(20)}) > 1


def test_5xx_that_persists_fails_after_the_attempts(server: ReplayServer) -> None:
    server.route("/carbon-intensity/latest", Reply({"message": "maintenance"}, status=500))
    with pytest.raises(ProviderUnavailable, match="HTTP 500: maintenance"):
        provider("electricitymaps", server, attempts=3).latest("DE")
    assert len(server.requests()) == 3


def test_a_slow_answer_times_out(server: ReplayServer) -> None:
    server.route("/carbon-intensity/latest", Reply(_latest_body(), delay_s=10.0))
    em = provider("electricitymaps", server, timeout_s=0.2, attempts=1)
    begun = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="no answer to carbon-intensity/latest within 0.2 s"):
        em.latest("DE")
    assert time.monotonic() - begun < 5.0  # gave up long before the answer (room for a busy machine)


def test_a_closed_port_is_unavailable() -> None:
    http = HttpClient("uk", timeout_s=0.5, retry=RetryPolicy(attempts=1))
    uk = make_provider("uk", url="http://127.0.0.1:9", http=http)
    with pytest.raises(ProviderUnavailable, match="intensity failed"):
        uk.latest("GB")


def test_malformed_json_is_a_response_error(server: ReplayServer) -> None:
    server.route("/intensity", Reply('{"data": [{"from": "2018-01-20T12:00Z",'))
    with pytest.raises(ProviderResponseError, match="not valid JSON"):
        provider("uk", server).latest("GB")
    assert len(server.requests()) == 1  # not retried: asking again gives the same


@pytest.mark.parametrize(("name", "path", "body", "message"), [
    ("electricitymaps", "/carbon-intensity/latest", {"zone": "DE", "datetime": "2019-05-21T00:00:00Z"},
     "missing field.s. carbonIntensity"),
    ("electricitymaps", "/carbon-intensity/latest", [], "expected a JSON object"),
    ("uk", "/intensity", {"data": [{"from": "2018-01-20T12:00Z", "to": "2018-01-20T12:30Z"}]},
     "missing field.s. intensity"),
    ("uk", "/intensity", {"data": [{"from": "yesterday", "to": "2018-01-20T12:30Z", "intensity": {"forecast": 1}}]},
     "is not an ISO 8601 time"),
    ("uk", "/intensity", {"nodata": []}, "missing list 'data'"),
    ("energidataservice", "/dataset/CO2Emis", {"records": [{"Minutes5UTC": "2019-12-09T12:20:00", "PriceArea": "DK1"}]},
     "missing field.s. CO2Emission"),
    ("energidataservice", "/dataset/CO2Emis", {"dataset": "Elspotprices", "records": []}, "dataset 'Elspotprices'"),
])
def test_missing_fields_are_response_errors(server: ReplayServer, name: str, path: str, body: Any,
                                             message: str) -> None:
    server.route(path, Reply(body))
    with pytest.raises(ProviderResponseError, match=message):
        provider(name, server, clock=at("2019-12-09T12:30:00Z")).latest("DK1" if name == "energidataservice" else
                                                                         "GB" if name == "uk" else "DE")


@pytest.mark.parametrize(("body", "message"), [
    ({**_latest_body(), "unit": "kgCO2eq/kWh"}, "unexpected units 'kgCO2eq/kWh'"),
    (_latest_body(302000.0), "outside 0-3000 gCO2e/kWh: unexpected units"),
    (_latest_body(-5.0), "unexpected units"),
    ({**_latest_body(), "carbonIntensity": "302"}, "no numeric intensity"),
])
def test_unexpected_units_and_values_are_refused(server: ReplayServer, body: Any, message: str) -> None:
    server.route("/carbon-intensity/latest", Reply(body))
    with pytest.raises(ProviderResponseError, match=message):
        provider("electricitymaps", server).latest("DE")


def test_stated_units_in_grams_per_kwh_are_accepted(server: ReplayServer) -> None:
    server.route("/carbon-intensity/latest", Reply({**_latest_body(), "unit": "gCO2eq/kWh"}))
    assert provider("electricitymaps", server).latest("DE").g_per_kwh == 300.0


# -- caching -------------------------------------------------------------------------------------------------------


def test_answers_are_cached_in_memory_and_on_disk_without_credentials(server: ReplayServer, tmp_path: Path) -> None:
    server.route("/carbon-intensity/latest", Reply(_latest_body(301.0)))
    directory = tmp_path / "intensity-cache"
    first = provider("electricitymaps", server, cache=ResponseCache(str(directory)))
    assert first.latest("DE").g_per_kwh == first.latest("DE").g_per_kwh == 301.0
    assert len(server.requests()) == 1
    second = provider("electricitymaps", server, cache=ResponseCache(str(directory)))  # a new process, say
    assert second.latest("DE").g_per_kwh == 301.0 and len(server.requests()) == 1
    stored = [p.read_text() for p in directory.iterdir()]
    assert stored and all(TOKEN not in text for text in stored)
    assert provider("electricitymaps", server, cache=ResponseCache(str(directory))).latest("FR")
    assert len(server.requests()) == 2  # another zone is another key


def test_cache_entries_expire() -> None:
    now = [1000.0]
    cache = ResponseCache(clock=lambda: now[0])
    cache.put("k", {"v": 1}, ttl_s=10)
    assert cache.get("k") == {"v": 1}
    now[0] += 11
    assert cache.get("k") is None


def test_watttime_tokens_are_never_cached_on_disk(server: ReplayServer, tmp_path: Path) -> None:
    _login_route(server, token="secret-bearer-token")
    body = {"data": [{"point_time": "2024-02-01T18:35:00+00:00", "value": 700.0}],
            "meta": {"units": "lbs_co2_per_mwh", "signal_type": "co2_moer", "region": "CAISO_NORTH"}}
    server.route("/v3/forecast", Reply(body))
    directory = tmp_path / "wt-cache"
    provider("watttime", server, clock=at("2024-02-01T18:36:00Z"),
             cache=ResponseCache(str(directory))).forecast("CAISO_NORTH", 600)
    texts = "".join(p.read_text() for p in directory.iterdir())
    assert "lbs_co2_per_mwh" in texts and "secret-bearer-token" not in texts and PASSWORD not in texts


# -- zones, settings and secrets -----------------------------------------------------------------------------------


def test_zones_are_checked_and_derived_from_locations() -> None:
    from wattprint.carbon.providers import provider_class

    em, uk, eds, wt = (provider_class(n) for n in ("electricitymaps", "uk", "energidataservice", "watttime"))
    assert em.check_zone("us-cal-ciso") == "US-CAL-CISO" and em.check_zone(" 48.85 , 2.35 ") == "48.85,2.35"
    assert uk.check_zone("regionid:13") == "region:13"
    assert eds.check_zone("dk-dk2") == "DK2" and wt.check_zone("caiso_north") == "CAISO_NORTH"
    for cls, bad in ((em, "91,0"), (uk, "region:99"), (uk, "postcode:??"), (eds, "DK3"), (wt, "CAISO NORTH")):
        with pytest.raises(ConfigError, match="intensity_zone"):
            cls.check_zone(bad)
    assert zone_for(em, location="FR") == "FR"
    assert zone_for(em, location="SE3") == "SE-SE3"
    assert zone_for(em, location="gcp:europe-west1") == "BE"  # the grid zone of the cloud region
    assert zone_for(em, location="em:US-CAL-CISO") == "US-CAL-CISO"
    assert zone_for(uk, location="GB") == "GB"
    assert zone_for(eds, location="em:DK-DK1") == "DK1"
    with pytest.raises(ConfigError, match="set intensity_zone to 'DK1'"):
        zone_for(eds, location="DK")  # two price areas: never guessed
    with pytest.raises(ConfigError, match="cannot serve location 'US-CA'"):
        zone_for(wt, location="US-CA")
    with pytest.raises(ConfigError, match="cannot serve an unknown location"):
        zone_for(uk)


def test_settings_need_the_credentials_of_their_provider() -> None:
    with pytest.raises(ConfigError, match="electricitymaps_token"):
        check_provider_settings(load_config({"intensity_provider": "electricitymaps"}))
    with pytest.raises(ConfigError, match="watttime_username and watttime_password"):
        check_provider_settings(load_config({"intensity_provider": "watttime", "watttime_username": "ada"}))
    with pytest.raises(ConfigError, match="intensity_zone 'DK9'"):
        check_provider_settings(load_config({"intensity_provider": "energidataservice", "intensity_zone": "DK9"}))
    check_provider_settings(load_config({"intensity_provider": "uk"}))  # no key needed
    with pytest.raises(ConfigError, match="intensity_url"):
        load_config({"intensity_url": "ftp://example.org"})


def test_secrets_are_masked_wherever_settings_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTPRINT_ELECTRICITYMAPS_TOKEN", TOKEN)
    monkeypatch.setenv("WATTPRINT_WATTTIME_PASSWORD", PASSWORD)
    config = load_config()
    token = config.get("electricitymaps_token")
    assert isinstance(token, Secret) and token.reveal() == TOKEN
    shown = repr(config) + str(config.settings()) + str(config.as_dict()) + f"{token}"
    assert TOKEN not in shown and PASSWORD not in shown and "Secret('***')" in shown


def test_importing_the_providers_imports_no_http_library() -> None:
    code = ("import sys\nimport wattprint.carbon.providers, wattprint.carbon.live, wattprint.plan.schedule\n"
            "from wattprint.carbon.providers import make_provider\nmake_provider('uk')\n"
            "assert 'httpx' not in sys.modules, 'httpx imported'\n")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
