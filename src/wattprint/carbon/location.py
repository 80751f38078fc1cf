"""Deciding where the machine is, and so which carbon intensity prices its energy.

Order, first answer wins: an explicit ``location`` argument, the configured location (``WATTPRINT_LOCATION``,
``wattprint.toml``, the user config), the cloud instance metadata service (only when ``cloud_metadata`` is on),
IP geolocation (only when ``ip_geolocation`` is on). When nothing answers, the world average is used, marked
``location unknown`` with a wide uncertainty, and :func:`location_hint` says how to set the location. A location
string the tables do not know is an error, never a silent fallback. No network call happens unless enabled.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Mapping

from wattprint.carbon.intensity import (
    HOW_ARGUMENT,
    HOW_CONFIG,
    HOW_GEOLOCATION,
    HOW_UNKNOWN,
    UNKNOWN_LOCATION_UNCERTAINTY,
    Intensity,
    how_cloud_metadata,
    intensity_from_record,
)
from wattprint.core.errors import ConfigError, check_number

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.data import IntensityRecord

__all__ = [
    "DEFAULT_GEOLOCATION_URL",
    "DEFAULT_METADATA_URLS",
    "MetadataAnswer",
    "cloud_metadata_region",
    "geolocate",
    "locate",
    "location_hint",
    "lookup_location",
    "resolve_location",
]

METADATA_ADDRESS = "http://169.254.169.254"
"""The link-local address of the instance metadata service on GCP (metadata.google.internal), AWS and Azure.
The address is used instead of the GCP host name so that no DNS query leaves the machine and no resolver delay
can exceed the time budget."""
DEFAULT_METADATA_URLS: Mapping[str, str] = {"gcp": METADATA_ADDRESS, "aws": METADATA_ADDRESS, "azure": METADATA_ADDRESS}
"""Base URL of each provider's metadata service; tests point them at a server on 127.0.0.1."""

GCP_ZONE_PATH = "/computeMetadata/v1/instance/zone"
AWS_TOKEN_PATH = "/latest/api/token"
AWS_REGION_PATH = "/latest/meta-data/placement/region"
AZURE_LOCATION_PATH = "/metadata/instance/compute/location?api-version=2021-02-01&format=text"

DEFAULT_GEOLOCATION_URL = "https://ipinfo.io/json"
"""ipinfo.io's free endpoint: JSON with ``country`` (ISO alpha-2) and ``region`` (a region name). The answers of
ipapi.co (``country_code``, ``region_code``) and ip-api.com (``countryCode``, ``region``) are understood too."""

_MAX_BODY = 4096
_GCP_ZONE = re.compile(r"^projects/\d+/zones/([a-z]+(?:-[a-z0-9]+)*\d)-[a-z]$")
_AWS_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
_AZURE_LOCATION = re.compile(r"^[a-z][a-z0-9]{2,40}$")
_REGION_CODE = re.compile(r"^[A-Za-z0-9]{1,3}$")
_SUBNATIONAL_KINDS = ("us-state", "in-state", "ca-province", "cn-province")


# -- explicit locations --------------------------------------------------------------------------------------------


def _suggestions(value: str, limit: int = 3) -> list[str]:
    """Keys close to ``value``: near-identical spellings of keys and names first, then substring matches of the
    tables, then looser spelling neighbours."""
    import difflib

    from wattprint.data import canonical_location_key, intensity_records, search_intensity

    names: dict[str, str] = {}
    for record in intensity_records(include_electricitymaps=True):
        for label in (record.key, *record.aliases):
            names.setdefault(canonical_location_key(label), record.key)
        names.setdefault(record.name.casefold(), record.key)
    wanted = canonical_location_key(value)
    found: list[str] = []
    close = difflib.get_close_matches(wanted, list(names), n=limit, cutoff=0.8)
    loose = difflib.get_close_matches(wanted, list(names), n=limit * 3, cutoff=0.6)
    searched = [r.key for r in search_intensity(value, limit=limit)]
    for key in [names[c] for c in close] + searched + [names[c] for c in loose]:
        if key not in found:
            found.append(key)
    return found[:limit]


def _described(keys: list[str]) -> str:
    from wattprint.data import lookup_intensity

    parts = []
    for key in keys:
        record = lookup_intensity(key)
        parts.append(f"{key!r} ({record.name})" if record is not None and record.name != key else repr(key))
    return ", ".join(parts)


def lookup_location(value: object, *, origin: str = "argument") -> IntensityRecord:
    """The table row of a location string (case-insensitive, aliases allowed); ConfigError when there is none.

    The error names the value and where it came from (``origin``), suggests close keys, and lists the kinds of
    key accepted: it is never answered with a default.
    """
    from wattprint.data import lookup_intensity

    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"location {value!r} from {origin} must be a non-empty string such as 'FR' or 'aws:us-east-1'"
        )
    record = lookup_intensity(value)
    if record is not None:
        return record
    close = _suggestions(value)
    hint = f"did you mean {_described(close)}? " if close else ""
    raise ConfigError(
        f"location {value!r} from {origin} is not a known location; {hint}Use an ISO country code ('FR', 'DEU'), a "
        "US state, Indian state, Chinese or Canadian province ('US-CA', 'IN-MH', 'CN-BJ', 'CA-QC'), a Nordic zone "
        "('SE3'), an eGRID subregion ('egrid:CAMX'), an Electricity Maps zone ('em:US-CAL-CISO') or a cloud region "
        "('gcp:europe-west1', 'aws:us-east-1', 'azure:westeurope'); " + _lister() + " lists them"
    )


def _lister() -> str:
    from wattprint.settings.hints import regions

    return regions()


# -- cloud instance metadata ---------------------------------------------------------------------------------------


class MetadataAnswer:
    """A cloud metadata service's answer: the provider and its region id (``("gcp", "europe-west1")``)."""

    __slots__ = ("provider", "region")

    def __init__(self, provider: str, region: str) -> None:
        self.provider = provider
        self.region = region

    def __repr__(self) -> str:
        return f"MetadataAnswer({self.provider!r}, {self.region!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MetadataAnswer) and (other.provider, other.region) == (self.provider, self.region)

    __hash__ = None  # type: ignore[assignment]


class _Failed(Exception):
    """A metadata probe got no usable answer; the message says why, for the notes."""


def _request(method: str, base: str, path: str, headers: Mapping[str, str], deadline: float) -> tuple[int, Any, str]:
    """One HTTP request with the socket timeouts cut to what is left before ``deadline``; (status, headers, body)."""
    import http.client
    from urllib.parse import urlsplit

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Failed("no time left")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Failed(f"unsupported metadata URL {base!r}")
    factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = factory(parts.hostname, parts.port, timeout=remaining)
    try:
        connection.request(method, parts.path.rstrip("/") + path, headers=dict(headers))
        if connection.sock is not None:
            connection.sock.settimeout(max(0.001, deadline - time.monotonic()))
        response = connection.getresponse()
        body = response.read(_MAX_BODY).decode("utf-8", "replace").strip()
        return response.status, response.headers, body
    except (OSError, http.client.HTTPException) as exc:
        raise _Failed(type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()


def _ok(status: int, what: str) -> None:
    if status != 200:
        raise _Failed(f"HTTP {status} for {what}")


def _gcp(base: str, deadline: float) -> str:
    status, headers, body = _request("GET", base, GCP_ZONE_PATH, {"Metadata-Flavor": "Google"}, deadline)
    _ok(status, "the instance zone")
    if (headers.get("Metadata-Flavor") or "").strip() != "Google":
        raise _Failed("the answer lacks the 'Metadata-Flavor: Google' header")
    match = _GCP_ZONE.match(body)
    if match is None:
        raise _Failed(f"unexpected zone {body[:60]!r}")
    return match.group(1)


def _aws(base: str, deadline: float) -> str:
    status, _, token = _request("PUT", base, AWS_TOKEN_PATH, {"X-aws-ec2-metadata-token-ttl-seconds": "60"}, deadline)
    _ok(status, "an IMDSv2 token")
    if not token or len(token) > 512 or any(c.isspace() for c in token):
        raise _Failed("unexpected IMDSv2 token")
    status, _, body = _request("GET", base, AWS_REGION_PATH, {"X-aws-ec2-metadata-token": token}, deadline)
    _ok(status, "the placement region")
    if _AWS_REGION.match(body) is None:
        raise _Failed(f"unexpected region {body[:60]!r}")
    return body


def _azure(base: str, deadline: float) -> str:
    status, _, body = _request("GET", base, AZURE_LOCATION_PATH, {"Metadata": "true"}, deadline)
    _ok(status, "the compute location")
    if _AZURE_LOCATION.match(body) is None:
        raise _Failed(f"unexpected location {body[:60]!r}")
    return body


_PROBES = {"gcp": _gcp, "aws": _aws, "azure": _azure}


def cloud_metadata_region(
    urls: Mapping[str, str] | None = None, *, timeout_s: float = 0.2
) -> tuple[MetadataAnswer | None, list[str]]:
    """Ask the GCP, AWS and Azure metadata services, concurrently, for this instance's region.

    Returns the first valid answer (or None) and one note per provider that gave none. The caller waits at most
    ``timeout_s`` in all, however the network behaves: each probe runs in a daemon thread whose socket timeouts
    are cut to the time left, and probes still running at the deadline are abandoned. ``urls`` maps provider
    (``gcp``, ``aws``, ``azure``) to the base URL of its service (default: ``http://169.254.169.254``); only the
    providers listed are asked. Uses only the standard library.
    """
    urls = DEFAULT_METADATA_URLS if urls is None else urls
    timeout_s = check_number("metadata_timeout_s", timeout_s, minimum=0.0, maximum=60.0)
    unknown = sorted(set(urls) - set(_PROBES))
    if unknown:
        raise ConfigError(f"metadata_urls: unknown provider(s) {', '.join(unknown)}; known: gcp, aws, azure")
    deadline = time.monotonic() + max(0.0, timeout_s)
    done = threading.Condition()
    outcomes: dict[str, str | _Failed] = {}

    def probe(provider: str, base: str) -> None:
        try:
            outcome: str | _Failed = _PROBES[provider](base, deadline)
        except _Failed as exc:
            outcome = exc
        except Exception as exc:  # a probe must never raise into the caller's thread
            outcome = _Failed(f"{type(exc).__name__}: {exc}")
        with done:
            outcomes[provider] = outcome
            done.notify_all()

    for provider, base in urls.items():
        threading.Thread(target=probe, args=(provider, base), name=f"wattprint-metadata-{provider}",
                         daemon=True).start()
    answer: MetadataAnswer | None = None
    with done:
        while True:
            for provider in urls:
                outcome = outcomes.get(provider)
                if isinstance(outcome, str):
                    answer = MetadataAnswer(provider, outcome)
                    break
            remaining = deadline - time.monotonic()
            if answer is not None or len(outcomes) == len(urls) or remaining <= 0:
                break
            done.wait(remaining)
        notes = []
        for provider in urls:
            outcome = outcomes.get(provider)
            if isinstance(outcome, _Failed):
                notes.append(f"{provider}: {outcome}")
            elif outcome is None and answer is None:
                notes.append(f"{provider}: no answer within {timeout_s * 1000:.0f} ms")
    return answer, notes


# -- IP geolocation ------------------------------------------------------------------------------------------------


def _folded(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _text(data: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def geolocation_record(data: Mapping[str, Any]) -> IntensityRecord | None:
    """The table row an IP geolocation answer points at: a US/Indian state, a Canadian/Chinese province when the
    answer names one the tables know, else the country; None when the answer has no usable country."""
    from wattprint.data import intensity_records, lookup_intensity

    country = _text(data, "country_code", "countryCode", "country")
    if country is None or len(country) != 2 or not country.isalpha():
        return None
    country = country.upper()
    codes = [_text(data, "region_code", "regionCode")]
    region = _text(data, "region", "region_name", "regionName")
    if region is not None and _REGION_CODE.match(region):
        codes.append(region)
    for code in codes:
        if code:
            record = lookup_intensity(f"{country}-{code}")
            if record is not None and record.kind in _SUBNATIONAL_KINDS and record.country == country:
                return record
    names = [n for n in (region, _text(data, "region_name", "regionName")) if n]
    if names:
        wanted = {_folded(n) for n in names}
        for record in intensity_records(country=country):
            if record.kind in _SUBNATIONAL_KINDS and _folded(record.name) in wanted:
                return record
    record = lookup_intensity(country)
    if record is not None and record.kind == "country":
        return record
    return None


def geolocate(url: str | None = None, *, timeout_s: float = 2.0) -> tuple[IntensityRecord | None, str]:
    """One HTTPS request to an IP geolocation service (``url``, default ipinfo.io), abandoned after ``timeout_s``
    in all; the row it points at, and a note saying what was found or why nothing was. Imports httpx, only here."""
    import httpx

    target = url or DEFAULT_GEOLOCATION_URL
    timeout_s = check_number("geolocation_timeout_s", timeout_s, minimum=0.0, maximum=60.0)
    outcome: dict[str, Any] = {}

    def fetch() -> None:
        try:
            response = httpx.get(target, timeout=timeout_s, headers={"Accept": "application/json"})
            outcome["status"] = response.status_code
            if response.status_code == 200:
                outcome["data"] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            outcome["error"] = type(exc).__name__
        except Exception as exc:  # never raise into the caller from the worker thread
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    worker = threading.Thread(target=fetch, name="wattprint-geolocation", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        return None, f"ip geolocation: no answer from {target} within {timeout_s:g} s"
    if "error" in outcome:
        return None, f"ip geolocation: no answer from {target} ({outcome['error']})"
    if outcome.get("status") != 200:
        return None, f"ip geolocation: HTTP {outcome.get('status')} from {target}"
    data = outcome.get("data")
    if not isinstance(data, dict):
        return None, f"ip geolocation: unexpected answer from {target}"
    record = geolocation_record(data)
    if record is None:
        return None, f"ip geolocation: {target} gave no country the tables know"
    return record, f"ip geolocation: {target} placed this machine in {record.name} ({record.key})"


# -- resolution ----------------------------------------------------------------------------------------------------


def resolve_location(
    location: str | None = None,
    *,
    configured: str | None = None,
    configured_from: str = "config",
    cloud_metadata: bool = False,
    ip_geolocation: bool = False,
    metadata_timeout_s: float = 0.2,
    metadata_urls: Mapping[str, str] | None = None,
    geolocation_url: str | None = None,
    geolocation_timeout_s: float = 2.0,
    reference_year: int | None = None,
) -> Intensity:
    """The carbon intensity of where this machine is, and how that was decided (``how_located``).

    ``location`` (an explicit argument) wins over ``configured`` (``WATTPRINT_LOCATION`` or a config file; its
    ``configured_from`` names the source in errors and notes), which wins over the cloud metadata services
    (only with ``cloud_metadata=True``, ``metadata_timeout_s`` in all), which win over IP geolocation (only with
    ``ip_geolocation=True``). An unknown location string raises ConfigError with suggestions. When nothing
    answers, the world average with ``how_located="location unknown"`` and a 60 % uncertainty.
    ``reference_year`` is the year the energy is used (default: this year), which ages the data.
    """
    if location is not None:
        record = lookup_location(location, origin="argument")
        return intensity_from_record(record, HOW_ARGUMENT, reference_year=reference_year)
    if configured is not None:
        record = lookup_location(configured, origin=configured_from)
        note = f"location {configured!r} from {configured_from}"
        return intensity_from_record(record, HOW_CONFIG, reference_year=reference_year, notes=(note,))
    notes: list[str] = []
    if cloud_metadata:
        answer, problems = cloud_metadata_region(metadata_urls, timeout_s=metadata_timeout_s)
        if answer is not None:
            from wattprint.data import lookup_cloud_region

            cloud_record = lookup_cloud_region(answer.provider, answer.region)
            if cloud_record is not None:
                notes.append(f"cloud metadata: {answer.provider} region {answer.region}")
                how = how_cloud_metadata(answer.provider)
                return intensity_from_record(cloud_record, how, reference_year=reference_year, notes=tuple(notes))
            notes.append(f"cloud metadata: {answer.provider} region {answer.region!r} is not in the intensity table")
        else:
            notes.append("cloud metadata: no service answered (" + "; ".join(problems) + ")")
    if ip_geolocation:
        geo_record, note = geolocate(geolocation_url, timeout_s=geolocation_timeout_s)
        notes.append(note)
        if geo_record is not None:
            return intensity_from_record(geo_record, HOW_GEOLOCATION, reference_year=reference_year,
                                         notes=tuple(notes))
    from wattprint.data import world_intensity

    if not cloud_metadata and not ip_geolocation:
        notes.append("no location given; cloud metadata and IP geolocation are off")
    notes.append(_hint())
    return intensity_from_record(world_intensity(), HOW_UNKNOWN, reference_year=reference_year, notes=tuple(notes))


def locate(location: str | None = None, *, config: Any = None, **options: Any) -> Intensity:
    """:func:`resolve_location` driven by wattprint's settings (``wattprint.settings.config.load_config()`` by default).

    The ``location`` key is the configured location (an ``argument``-sourced value counts as an argument);
    ``cloud_metadata`` and ``ip_geolocation`` turn the network sources on. ``options`` go to resolve_location.
    """
    if config is None:
        from wattprint.settings.config import load_config

        config = load_config()
    setting = config.setting("location")
    configured = None
    if setting.value is not None:
        if setting.source == "argument" and location is None:
            location = setting.value
        elif setting.source != "argument":
            configured = setting.value
    options.setdefault("cloud_metadata", bool(config.get("cloud_metadata")))
    options.setdefault("ip_geolocation", bool(config.get("ip_geolocation")))
    return resolve_location(location, configured=configured, configured_from=setting.source, **options)


def location_hint(intensity: Intensity | None = None) -> str | None:
    """The one line a summary shows when the location is unknown: how to set it. None for a located intensity."""
    if intensity is not None and intensity.how_located != HOW_UNKNOWN:
        return None
    return _hint()


def _hint() -> str:
    from wattprint.settings.hints import argument

    given = argument("location", "FR")
    return (
        f"Location unknown: emissions use the world average (±{UNKNOWN_LOCATION_UNCERTAINTY * 100:.0f} %). "
        f"Set it with {given + ', ' if given else ''}"
        "WATTPRINT_LOCATION=FR, location = \"FR\" in wattprint.toml, or cloud_metadata = true on a cloud VM."
    )
