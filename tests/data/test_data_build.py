"""The embedded data: the build is reproducible, every row is attributed, and the lookups match carefully."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import wattprint.data as data
from wattprint.data import (
    CpuSpec,
    GpuSpec,
    IntensityRecord,
    canonical_location_key,
    normalize_cpu_name,
    normalize_gpu_name,
)

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "src" / "wattprint" / "data"
BUILD_SCRIPT = REPO / "scripts" / "build_data.py"
CSV_TABLES = (
    "intensity.csv",
    "intensity_electricitymaps.csv",
    "cpu_tdp.csv",
    "gpu_tdp.csv",
    "pue_wue.csv",
    "equivalences.csv",
    "constants.csv",
)
LICENCES = {"CC-BY-4.0", "MIT", "Apache-2.0", "ODbL-1.0", "public-domain", "facts (cited)"}


def _raw_data_dir() -> Path | None:
    env = os.environ.get("WATTPRINT_RAW_DATA")
    candidate = Path(env) if env else REPO.parent / "shared" / "data"
    return candidate if (candidate / "ember" / "api_country_overview_yearly.csv").is_file() else None


RAW = _raw_data_dir()
needs_raw = pytest.mark.skipif(
    RAW is None,
    reason="raw datasets not found (looked in $WATTPRINT_RAW_DATA, then ../shared/data next to the repository)",
)


def _table(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((DATA_DIR / name).read_text(encoding="utf-8"))))


def _loc(key: str) -> IntensityRecord:
    record = data.lookup_intensity(key)
    assert record is not None, key
    return record


def _region(provider: str, region: str) -> IntensityRecord:
    record = data.lookup_cloud_region(provider, region)
    assert record is not None, (provider, region)
    return record


def _cpu(name: str) -> CpuSpec:
    spec = data.lookup_cpu(name)
    assert spec is not None, name
    return spec


def _gpu(name: str) -> GpuSpec:
    spec = data.lookup_gpu(name)
    assert spec is not None, name
    return spec


def _generated_files() -> list[str]:
    manifest = json.loads((DATA_DIR / "manifest.json").read_text(encoding="utf-8"))
    return sorted([*manifest["tables"], "manifest.json"])


def _run_build(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


# --------------------------------------------------------------------------------------
# Reproducibility
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    assert RAW is not None
    out = tmp_path_factory.mktemp("rebuilt")
    result = _run_build(str(RAW), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


@needs_raw
def test_rebuild_is_byte_identical_to_committed_tables(rebuilt: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = rebuilt
    built = sorted(p.name for p in out.iterdir())
    assert built == _generated_files()
    for name in built:
        assert (out / name).read_bytes() == (DATA_DIR / name).read_bytes(), f"{name} differs from a fresh build"


@needs_raw
def test_build_reads_raw_data_from_the_environment_variable(tmp_path: Path) -> None:
    result = _run_build("--out", str(tmp_path), "--quiet", env={"WATTPRINT_RAW_DATA": str(RAW)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "intensity.csv").read_bytes() == (DATA_DIR / "intensity.csv").read_bytes()


@needs_raw
def test_check_mode_reports_up_to_date() -> None:
    result = _run_build(str(RAW), "--check", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_build_fails_clearly_without_raw_data(tmp_path: Path) -> None:
    result = _run_build(str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "not found" in result.stderr
    assert not (tmp_path / "out").exists()


@needs_raw
def test_malformed_values_are_dropped_with_a_warning(rebuilt: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, result = rebuilt
    for bad in ("'000077'", "'000402'", "27.29.5", "GTX 750", "UNVERIFIED"):
        assert bad in result.stderr, f"no warning mentions {bad}"
    manifest = data.data_manifest()
    assert manifest["dropped"]["intensity"]["malformed CCF emission factor"] == 2
    assert manifest["dropped"]["cpu_tdp"]["malformed TDP"] >= 4
    assert all(line in result.stderr for line in manifest["warnings"])


# --------------------------------------------------------------------------------------
# Every row attributed, keys unique, values plausible
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CSV_TABLES)
def test_every_row_has_source_and_licence(name: str) -> None:
    rows = _table(name)
    assert rows, f"{name} is empty"
    for row in rows:
        assert row["source"].strip(), f"{name}: row without source: {row}"
        licences = {part.strip() for part in row["licence"].split(";")}
        assert licences <= LICENCES, f"{name}: unexpected licence {row['licence']!r}"


@pytest.mark.parametrize("name", ("intensity.csv", "intensity_electricitymaps.csv"))
def test_intensity_rows_have_a_year_or_say_why_not(name: str) -> None:
    for row in _table(name):
        if row["year"]:
            assert 2010 <= int(row["year"]) <= 2030, row
        else:
            # Only Cloud Carbon Footprint's factors come without a data year, and the row says so.
            assert row["grid_factor"].startswith("ccf:"), row
            assert "data year" in row["note"], row


def test_pue_wue_equivalences_and_constants_carry_their_vintage() -> None:
    for row in _table("pue_wue.csv"):
        assert row["period"] or row["year"], row
        assert row["confidence"], row
    for row in _table("equivalences.csv"):
        assert row["vintage"], row
    for row in _table("constants.csv"):
        assert row["unit"], row


@pytest.mark.parametrize("name", CSV_TABLES)
def test_no_duplicate_keys(name: str) -> None:
    rows = _table(name)
    keys: list[object]
    if name == "pue_wue.csv":
        keys = [(r["provider"], r["metric"], r["region"], r["period"], r["source"]) for r in rows]
    elif name.startswith("intensity"):
        keys = [canonical_location_key(k) for r in rows for k in (r["key"], *r["aliases"].split(";")) if k]
    else:
        keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))


def test_location_keys_are_unique_across_both_intensity_files() -> None:
    keys = [
        canonical_location_key(k)
        for name in ("intensity.csv", "intensity_electricitymaps.csv")
        for r in _table(name)
        for k in (r["key"], *r["aliases"].split(";"))
        if k
    ]
    assert len(keys) == len(set(keys))


def test_one_default_per_provider_metric_and_region() -> None:
    defaults: dict[tuple[str, str, str], int] = {}
    for r in _table("pue_wue.csv"):
        group = (r["provider"], r["metric"], r["region"])
        defaults[group] = defaults.get(group, 0) + int(r["is_default"])
    assert all(n == 1 for n in defaults.values()), defaults


@pytest.mark.parametrize("name", ("intensity.csv", "intensity_electricitymaps.csv"))
def test_intensities_are_positive_and_plausible(name: str) -> None:
    for row in _table(name):
        value = float(row["intensity_g_per_kwh"])
        assert 0 < value < 1500, row
        for share in ("cfe_fraction", "renewable_fraction"):
            if row[share]:
                assert 0 <= float(row[share]) <= 1, row


def test_reference_countries_and_world_are_plausible() -> None:
    assert _loc("FR").intensity_g_per_kwh < 100
    assert _loc("PL").intensity_g_per_kwh > 500
    world = data.world_intensity()
    assert world.kind == "world"
    assert 450 <= world.intensity_g_per_kwh <= 500
    assert world.licence == "CC-BY-4.0" and world.year is not None


def test_coverage_of_each_kind() -> None:
    counts = {kind: len(data.intensity_records(kind=kind)) for kind in data.INTENSITY_KINDS}
    assert counts["world"] == 1
    assert counts["country"] >= 200
    assert counts["us-state"] == 51
    assert counts["egrid"] >= 27
    assert counts["in-state"] >= 30
    assert counts["cn-province"] == 30
    assert counts["ca-province"] == 13
    assert counts["nordic-zone"] == 9
    assert counts["em-zone"] >= 300
    assert counts["cloud-region"] >= 150


def test_every_country_has_its_iso3_alias_and_continent() -> None:
    for record in data.intensity_records(kind="country"):
        assert len(record.key) == 2 and record.country == record.key
        assert len(record.aliases) == 1 and len(record.aliases[0]) == 3, record
        assert record.continent, record


def test_electricity_maps_values_stay_in_their_own_odbl_file() -> None:
    em_rows = _table("intensity_electricitymaps.csv")
    assert all(r["licence"] == "ODbL-1.0" and r["key"].startswith("em:") for r in em_rows)
    assert all(r["licence"] != "ODbL-1.0" for r in _table("intensity.csv"))
    notice = (DATA_DIR / "ELECTRICITYMAPS_ODbL_NOTICE.md").read_text(encoding="utf-8")
    assert "Open Database License" in notice and "Electricity Maps" in notice
    assert "intensity_electricitymaps.csv" in notice
    assert not any(r.is_odbl for r in data.intensity_records())
    assert all(r.is_odbl for r in data.intensity_records(kind="em-zone"))


def test_cloud_regions_know_their_zone_and_country() -> None:
    for region in data.cloud_regions():
        assert region.provider and region.region and region.grid_factor, region
        assert region.key == f"{region.provider}:{region.region}"
        if region.zone:
            zone = data.lookup_intensity(region.zone)
            assert zone is not None and zone.kind != "cloud-region", region
            assert zone.country == region.country, region
        else:
            assert region.provider == "azure" and region.grid_factor == "ccf:geography", region


def test_derived_and_converted_values_say_how() -> None:
    assert "0.45359237" in _loc("US-TX").note
    quebec = _loc("CA-QC")
    assert quebec.source.startswith("derived") and "IPCC" in quebec.source and "derived" in quebec.note
    assert "x 1e6" in _loc("azure:belgiumcentral").note


def test_cpu_table_keys_are_the_shared_normalisation_of_names() -> None:
    rows = _table("cpu_tdp.csv")
    assert len(rows) > 4000
    for row in rows:
        assert row["key"] == normalize_cpu_name(row["name"]), row
        assert 0 < float(row["tdp_w"]) <= 1000
    assert sum(1 for r in rows if r["cores"]) >= 80


def test_gpu_table_keys_are_the_shared_normalisation_of_names() -> None:
    for row in _table("gpu_tdp.csv"):
        assert row["key"] == normalize_gpu_name(row["name"]).key, row
        assert 0 < float(row["tdp_w"]) <= 1000


def test_attribution_lists_every_dataset_used() -> None:
    text = data.attribution_text()
    folders = {path.split("/", 1)[0] for path in data.data_manifest()["raw_inputs"]}
    assert folders >= {
        "ember",
        "codecarbon",
        "gcp-region-carbon-info",
        "cloud-carbon-footprint",
        "mlco2-impact",
        "green-algorithms",
        "electricitymaps-yearly",
        "egrid",
        "compiled-factors",
    }
    for folder in folders:
        assert f"Raw data folder: `{folder}/`" in text, folder
    for required in ("CC BY 4.0", "ODbL", "Ember", "Green Algorithms", "Lannelongue", "Electricity Maps"):
        assert required in text
    licences_used = {part.strip() for name in CSV_TABLES for r in _table(name) for part in r["licence"].split(";")}
    assert licences_used <= LICENCES


def test_total_size_is_modest() -> None:
    assert sum((DATA_DIR / name).stat().st_size for name in _generated_files()) < 1_000_000


def test_importing_the_data_package_reads_nothing() -> None:
    code = "import sys, wattprint.data; print(sorted(m for m in sys.modules if m.startswith('wattprint.data.')))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        check=True,
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------
# Location lookups
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected_key", "kind", "country"),
    [
        ("FR", "FR", "country", "FR"),
        ("FRA", "FR", "country", "FR"),
        ("deu", "DE", "country", "DE"),
        ("world", "WORLD", "world", None),
        ("US-CA", "US-CA", "us-state", "US"),
        ("egrid:CAMX", "egrid:CAMX", "egrid", "US"),
        ("IN-MH", "IN-MH", "in-state", "IN"),
        ("IN-TG", "IN-TS", "in-state", "IN"),  # Telangana's code before ISO's 2023 revision
        ("CN-BJ", "CN-BJ", "cn-province", "CN"),
        ("CA-QC", "CA-QC", "ca-province", "CA"),
        ("SE3", "SE3", "nordic-zone", "SE"),
        ("NO1", "NO1", "nordic-zone", "NO"),
        ("FI", "FI", "country", "FI"),
        ("em:US-CAL-CISO", "em:US-CAL-CISO", "em-zone", "US"),
        ("em:se-se3", "em:SE-SE3", "em-zone", "SE"),
        ("gcp:europe-west1", "gcp:europe-west1", "cloud-region", "BE"),
        ("aws:us-east-1", "aws:us-east-1", "cloud-region", "US"),
        ("azure:westeurope", "azure:westeurope", "cloud-region", "NL"),
        ("Azure:West Europe", "azure:westeurope", "cloud-region", "NL"),
        ("ovh:gra", "ovh:gra", "cloud-region", "FR"),
        ("scaleway:fr-par", "scaleway:paris", "cloud-region", "FR"),
        ("coreweave:LGA1", "coreweave:lga1", "cloud-region", "US"),
    ],
)
def test_lookup_intensity(key: str, expected_key: str, kind: str, country: str | None) -> None:
    record = data.lookup_intensity(key)
    assert record is not None, key
    assert (record.key, record.kind, record.country) == (expected_key, kind, country)
    assert record.intensity_g_per_kwh > 0 and record.source and record.licence


def test_a_cold_lookup_finds_what_the_index_finds() -> None:
    """The first lookup of a process reads only the lines that name the key; it must agree with the full index
    for every key and alias of both tables (cloud regions always use the index)."""
    from wattprint.data import _intensity, _names

    checked = 0
    for table in ("intensity.csv", "intensity_electricitymaps.csv"):
        index = _intensity._index(table)
        for canonical, record in index.items():
            if canonical.partition(":")[0] in _names.CLOUD_PROVIDERS:
                continue
            assert _intensity._lookup_cold(table, canonical) == record, canonical
            checked += 1
        for missing in ("xx", "us-xx", "egrid:nope", "em:xx", "world2"):
            assert _intensity._lookup_cold(table, missing) is None
    assert checked > 800
    code = "from wattprint import data; print(data.lookup_intensity('FRA').key, data.lookup_intensity('WORLD').key)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["FR", "WORLD"]


@pytest.mark.parametrize("key", ["", "  ", "XX", "US-XX", "egrid:NOPE", "gcp:mars-north1", "em:XX"])
def test_lookup_intensity_unknown(key: str) -> None:
    assert data.lookup_intensity(key) is None


def test_gcp_region_has_google_figures_and_cfe() -> None:
    region = _region("gcp", "europe-west1")
    assert region is not None
    assert region.year == max(r.year or 0 for r in data.cloud_regions("gcp"))
    assert region.cfe_fraction is not None and 0 < region.cfe_fraction <= 1
    assert region.zone == "BE" and region.grid_factor == "google:grid-carbon-intensity"
    assert _loc("google:us-central1").zone == "US-IA"


def test_aws_and_azure_regions_use_ccf_factors() -> None:
    virginia = _region("aws", "us-east-1")
    assert virginia.zone == "US-VA" and virginia.grid_factor == "ccf:NERC-SERC"
    assert virginia.licence == "Apache-2.0"
    frankfurt = _region("azure", "germanywestcentral")
    assert (frankfurt.grid_factor or "").startswith("ccf:")  # from CCF's constants, not the malformed CSV value
    finland = _region("azure", "finlandcentral")
    assert finland.grid_factor == "zone:FI" and "malformed" in finland.note


def test_ml_co2_impact_only_provider_uses_its_zone_factor() -> None:
    seeweb = _region("seeweb", "fro2")
    assert seeweb is not None and seeweb.zone == "IT"
    assert seeweb.intensity_g_per_kwh == _loc("IT").intensity_g_per_kwh
    assert "ML CO2 Impact" in seeweb.note


def test_listing_and_search() -> None:
    assert {r.provider for r in data.cloud_regions()} >= {"gcp", "aws", "azure", "ovh", "scaleway", "coreweave"}
    assert all(r.country == "IN" for r in data.intensity_records(country="in"))
    assert data.search_intensity("FRA")[0].key == "FR"
    california = [r.key for r in data.search_intensity("california")]
    assert {"US-CA", "egrid:CAMX", "em:US-CAL-CISO"} <= set(california)
    assert all(not r.is_odbl for r in data.search_intensity("california", include_electricitymaps=False))
    assert data.search_intensity("") == []
    with pytest.raises(ValueError, match="unknown intensity kind"):
        data.intensity_records(kind="planet")


# --------------------------------------------------------------------------------------
# Hardware lookups
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_name", "expected_name", "tdp_w"),
    [
        ("Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz", "Intel Xeon Platinum 8259CL", 210),
        ("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "Intel Xeon E5-2686 v4", 145),
        ("Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz", "Intel Xeon E5-2670", 115),
        ("Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz", "Intel Xeon Gold 6148", 150),
        ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "Intel Xeon Platinum 8375C", 300),
        ("AMD EPYC 7B12 64-Core Processor", "AMD EPYC 7B12", 240),
        ("AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763", 280),
        ("AMD EPYC 9654 96-Core Processor", "AMD EPYC 9654", 360),
        ("AMD Ryzen 9 5950X 16-Core Processor", "AMD Ryzen 9 5950X", 105),
        ("AMD Ryzen 7 5800H with Radeon Graphics", "AMD Ryzen 7 5800H", 45),
        ("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "Intel Core i7-8700K", 95),
        ("11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", "Intel Core i7-1165G7", 28),
        ("Intel(R) Core(TM) i7-10750H CPU @ 2.60GHz", "Intel Core i7-10750H", 45),
        ("AMD Opteron(tm) Processor 6272", "AMD Opteron 6272", 115),
    ],
)
def test_lookup_cpu_real_cpuinfo_names(model_name: str, expected_name: str, tdp_w: float) -> None:
    spec = data.lookup_cpu(model_name)
    assert spec is not None, model_name
    assert (spec.name, spec.tdp_w) == (expected_name, tdp_w)
    assert spec.source


def test_lookup_cpu_keeps_core_counts_from_green_algorithms() -> None:
    spec = _cpu("AMD EPYC 7763 64-Core Processor")
    assert spec.cores == 64 and "green-algorithms" in spec.source
    assert _cpu("Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz").cores is None


@pytest.mark.parametrize(
    "model_name",
    [
        "AMD EPYC",
        "AMD EPYC Processor",
        "AMD EPYC Processor (with IBPB)",
        "Intel(R) Xeon(R) CPU @ 2.20GHz",
        "Intel Xeon Processor (Icelake)",
        "QEMU Virtual CPU version 2.5+",
        "Intel(R) Xeon(R) Platinum 8259 CPU @ 2.50GHz",  # no such part; must not become 8259CL
        "Apple M1 Pro",  # not in the table; must not become the plain M1
        "",
    ],
)
def test_lookup_cpu_generic_or_unknown_names_give_none(model_name: str) -> None:
    assert data.lookup_cpu(model_name) is None


def test_lookup_cpu_whole_token_and_family_rules() -> None:
    # 8259CL is one token: it never matches the Core i5-8259U, and vice versa.
    assert _cpu("Intel(R) Core(TM) i5-8259U CPU @ 2.30GHz").name == "Intel Core i5-8259U"
    # A version suffix is part of the model: E5-2670 (v1) is not E5-2670 v2.
    assert _cpu("Intel(R) Xeon(R) CPU E5-2670 v2 @ 2.50GHz").tdp_w == 115
    assert _cpu("Intel(R) Xeon(R) CPU E5-2670 v3 @ 2.30GHz").tdp_w == 120
    # A different family with the same number does not match ("Xeon Gold 6132" vs Opteron "6132 HE").
    assert _cpu("Intel(R) Xeon(R) Gold 6132 CPU @ 2.60GHz").name == "Intel Xeon Gold 6132"
    # An extra word around the same model still matches (fuzzy step), a bare number does not.
    assert _cpu("Intel Xeon Scalable Gold 6148").name == "Intel Xeon Gold 6148"
    assert data.lookup_cpu("6148") is None


@pytest.mark.parametrize(
    ("nvml_name", "expected_name", "tdp_w"),
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM", 700),
        ("NVIDIA H100 NVL", "H100 NVL", 400),
        ("NVIDIA A100-SXM4-40GB", "A100 SXM4 80 GB", 400),  # the table's only SXM4 row (same TDP)
        ("NVIDIA A100-SXM4-80GB", "A100 SXM4 80 GB", 400),
        ("NVIDIA A100-PCIE-40GB", "NVIDIA A100 40GB PCIe", 250),
        ("NVIDIA A100 80GB PCIe", "NVIDIA A100 80GB PCIe", 300),
        ("Tesla V100-SXM2-16GB", "Tesla V100-SXM2-16GB", 300),
        ("Tesla V100-SXM2-32GB", "Tesla V100-SXM2-32GB", 300),
        ("Tesla V100-PCIE-16GB", "Tesla V100-PCIE-16GB", 250),
        ("Tesla V100-DGXS-32GB", "NVIDIA Tesla V100", 300),
        ("Tesla T4", "T4", 70),
        ("NVIDIA T4", "T4", 70),
        ("NVIDIA L4", "L4", 72),
        ("NVIDIA A10G", "A10G", 150),
        ("NVIDIA GeForce RTX 4090", "RTX 4090", 450),
        ("NVIDIA A100-SXM4-40GB MIG 1g.5gb", "A100 SXM4 80 GB", 400),
    ],
)
def test_lookup_gpu_real_nvml_names(nvml_name: str, expected_name: str, tdp_w: float) -> None:
    spec = data.lookup_gpu(nvml_name)
    assert spec is not None, nvml_name
    assert (spec.name, spec.tdp_w) == (expected_name, tdp_w)


def test_lookup_gpu_memory() -> None:
    assert _gpu("NVIDIA A100-PCIE-40GB").memory_gb == 40
    assert _gpu("NVIDIA A100 80GB PCIe").memory_gb == 80
    assert _gpu("NVIDIA L4").memory_gb == 24


@pytest.mark.parametrize(
    "nvml_name",
    [
        "NVIDIA A10",  # not the A10G
        "NVIDIA L40",  # not the L40S
        "NVIDIA H100 PCIe",  # the table has SXM (700 W) and NVL (400 W) only: no guess
        "NVIDIA GeForce RTX 4090 D",
        "",
    ],
)
def test_lookup_gpu_unknown_or_ambiguous_names_give_none(nvml_name: str) -> None:
    assert data.lookup_gpu(nvml_name) is None


# --------------------------------------------------------------------------------------
# Factors
# --------------------------------------------------------------------------------------


def test_default_pue() -> None:
    unknown = data.default_pue()
    assert unknown.provider == "unknown" and unknown.pue_ratio == 1.56 and unknown.year == 2024
    assert data.default_pue("on-premises") == unknown
    assert data.default_pue("some-new-cloud").provider == "unknown"
    assert data.default_pue("google").provider == "gcp"
    assert 1.0 < data.default_pue("aws").pue_ratio < 1.3
    assert data.default_pue("gcp", "europe-west4").region == "europe-west4"
    assert data.default_pue("gcp", "mars-north1").region is None


def test_default_wue() -> None:
    azure = data.default_wue("azure")
    assert azure is not None and azure.wue_l_per_kwh > 0 and azure.year
    assert data.default_wue("some-new-cloud") is None
    assert all(r.provider == "aws" for r in data.wue_records("amazon"))


def test_equivalences_and_constants() -> None:
    mile = data.equivalence("car_mile_us")
    assert mile.g_co2e_per_unit == pytest.approx(393) and mile.vintage and mile.licence == "public-domain"
    assert data.equivalence("tree_year").licence == "CC-BY-4.0"
    assert data.constant("ram.power_w_per_gb.green_algorithms").value == pytest.approx(0.3725)
    assert data.constant("embodied.server_base_kg_co2e").value == 1000
    assert data.constant("fuel.gas.lifecycle_g_co2e_per_kwh").value == 490
    with pytest.raises(KeyError, match="car_mile_us"):
        data.equivalence("nope")
    with pytest.raises(KeyError, match="known"):
        data.constant("nope")


# --------------------------------------------------------------------------------------
# Labels a user reads: no to-dos, the right basis, no contradictory dates (issue 12, items 12, 15, 19, 21)
# --------------------------------------------------------------------------------------

TODO_WORDS = __import__("re").compile(
    r"\b(?:verify|verification|unverified|todo|fixme|tbd|xxx)\b|reportedly", __import__("re").IGNORECASE
)


@pytest.mark.parametrize("name", (*CSV_TABLES, "ATTRIBUTION.md", "ELECTRICITYMAPS_ODbL_NOTICE.md"))
def test_no_shipped_table_or_note_carries_a_to_do(name: str) -> None:
    """A note such as "newer vintages reportedly ~0.84 - VERIFY" must never reach a user."""
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    found = [line for line in text.splitlines() if TODO_WORDS.search(line)]
    assert not found, f"{name}: {found[:3]}"


def test_unsettled_compiled_rows_are_dropped_and_counted() -> None:
    manifest = json.loads((DATA_DIR / "manifest.json").read_text(encoding="utf-8"))
    dropped = manifest["dropped"]
    assert dropped["equivalences"].get("figure not settled in the compiled data") == 1  # the forest acre
    assert dropped["pue_wue"].get("figure not settled in the compiled data") == 2  # two remembered WUE figures
    assert "us_forest_acre_year" not in {row["key"] for row in _table("equivalences.csv")}


def test_google_figures_are_operational_not_lifecycle() -> None:
    """Since its 2021 data Google defines its figure as average operational gross emissions per kWh."""
    rows = [r for r in data.cloud_regions("gcp")]
    assert rows and {r.basis for r in rows} == {"direct"}
    assert all("operational" in r.note for r in rows)
    assert _loc("FR").basis == "lifecycle"


def test_a_source_that_names_a_date_does_not_contradict_its_missing_year() -> None:
    """CCF's "(..., 2024-03-25)" read as a data date beside an empty year: the source says what the date is."""
    for name in ("intensity.csv", "pue_wue.csv", "constants.csv"):
        for row in _table(name):
            if not row["year"] and "2024-03-25" in row["source"]:
                assert "code of 2024-03-25" in row["source"], (name, row)
    virginia = _region("aws", "us-east-1")
    assert virginia.year is None and "data year not stated" in virginia.source


def test_search_by_continent_country_name_and_provider_region_name() -> None:
    europe = {r.key for r in data.search_intensity("europe", limit=None)}
    assert {"aws:eu-west-1", "aws:eu-central-1", "aws:eu-west-3", "FR", "DE", "gcp:europe-west9",
            "azure:westeurope", "azure:francecentral"} <= europe
    assert not {"US", "aws:us-east-1", "JP"} & europe
    france = [r.key for r in data.search_intensity("France", limit=None)]
    assert france[0] == "FR" or france.index("FR") < 6
    assert {"aws:eu-west-3", "gcp:europe-west9", "azure:francecentral"} <= set(france)
    assert "aws:eu-central-1" in {r.key for r in data.search_intensity("frankfurt", limit=None)}
    assert "azure:westeurope" in {r.key for r in data.search_intensity("West Europe", limit=None)}
