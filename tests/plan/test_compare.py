"""Region comparison: ranking, ratios, the greenest choices nearby, and the command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import wattprint
from wattprint.carbon import resolve_location
from wattprint.core.errors import ConfigError
from wattprint.data import cloud_regions, default_pue, lookup_intensity
from wattprint.plan.compare import compare_estimate, compare_regions, known_providers

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))


def test_locations_ranked_by_hand_with_ratios_to_the_reference() -> None:
    comparison = compare_regions(100.0, 0.1, locations=["PL", "FR", "DE", "SE3"], reference="DE")
    pue = default_pue(None).pue_ratio
    expected = {key: 100.0 * pue * lookup_intensity(key).intensity_g_per_kwh for key in ("PL", "FR", "DE", "SE3")}
    order = sorted(expected, key=expected.get)
    assert [p.key for p in comparison.regions] == order
    assert [p.rank for p in comparison.regions] == [1, 2, 3, 4]
    for price in comparison.regions:
        assert price.emissions_g == pytest.approx(expected[price.key])
        assert price.ratio == pytest.approx(expected[price.key] / expected["DE"])
        assert price.pue == pytest.approx(pue)
    assert comparison.reference is not None and comparison.reference.key == "DE"
    assert comparison.reference.ratio == pytest.approx(1.0)
    assert comparison.ratio_to == "DE"
    best, worst = order[0], order[-1]
    first, second = comparison.sentences()
    assert first.startswith(f"Running in {worst} ")
    assert f"{expected[worst] / expected[best]:.3g}x more than in {best}" in first
    assert second.startswith(f"Moving from DE to {best}")
    # the reference's country and continent
    assert [p.key for p in comparison.near_country] == ["DE"]
    assert [p.key for p in comparison.near_continent] == order[:3]


def test_every_region_of_a_provider_with_its_own_pue_and_the_greenest_near_a_place() -> None:
    comparison = compare_regions(50.0, providers=["gcp"], near="FR")
    regions = cloud_regions("gcp")
    assert len(comparison.regions) == len(regions)
    emissions = [p.emissions_g for p in comparison.regions]
    assert emissions == sorted(emissions)
    for price in comparison.regions:
        grid = resolve_location(price.key)
        pue = default_pue("gcp", price.key.split(":", 1)[1]).pue_ratio
        assert price.pue == pytest.approx(pue)
        assert price.emissions_g == pytest.approx(50.0 * pue * grid.g_per_kwh)
        assert price.provider == "gcp"
    # no reference: ratios are to the greenest
    assert comparison.ratio_to == "greenest" and comparison.regions[0].ratio == pytest.approx(1.0)
    assert all(p.ratio >= 1.0 for p in comparison.regions)
    assert comparison.near is not None and comparison.near.key == "FR" and comparison.near.rank is None
    french = [p for p in comparison.regions if p.country == "FR"]
    assert list(comparison.near_country) == french[:3] and french
    european = [p for p in comparison.regions if p.continent == "Europe"]
    assert list(comparison.near_continent) == european[:3]
    assert comparison.near_continent[0].emissions_g <= comparison.near_country[0].emissions_g


def test_a_reference_outside_the_set_and_a_given_pue() -> None:
    comparison = compare_regions(10.0, locations=["FR", "PL"], reference="aws:us-east-1", pue=1.3)
    assert all(p.pue == 1.3 for p in comparison.regions)
    reference = comparison.reference
    assert reference is not None and reference.rank is None and reference.ratio == pytest.approx(1.0)
    assert reference.emissions_g == pytest.approx(10.0 * 1.3 * resolve_location("aws:us-east-1").g_per_kwh)
    for price in comparison.regions:
        assert price.ratio == pytest.approx(price.emissions_g / reference.emissions_g)
    json.dumps(comparison.to_dict())


def test_several_providers_together() -> None:
    comparison = compare_regions(1.0, providers=["aws", "azure"])
    assert {p.provider for p in comparison.regions} == {"aws", "azure"}
    assert len(comparison.regions) == len(cloud_regions("aws")) + len(cloud_regions("azure"))


def test_an_estimate_is_compared_with_its_own_location() -> None:
    estimate = wattprint.estimate(gpu="H100 SXM", count=4, hours=10, location="gcp:us-east4")
    comparison = compare_estimate(estimate, providers=["gcp"])
    assert comparison.reference is not None and comparison.reference.key == "gcp:us-east4"
    assert comparison.reference.emissions_g == pytest.approx(estimate.emissions_g)
    assert comparison.energy_kwh == pytest.approx(4 * 700 * 10 / 1000)
    assert "the estimate" in comparison.workload


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"providers": ["nimbus"]}, "known: aws"),
        ({"locations": ["Atlantis"]}, "not a known location"),
        ({"locations": ["FR"], "reference": "Atlantis"}, "not a known location"),
        ({"locations": []}, "nothing to compare"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compare_regions(1.0, **kwargs)
    assert "gcp" in known_providers()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([WATTPRINT, "compare-regions", *args], capture_output=True, text=True, timeout=120)


def test_the_command_json_and_text() -> None:
    done = run_cli("--energy-kwh", "120", "--locations", "FR,DE", "--locations", "PL", "--location", "DE", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    library = compare_regions(120.0, locations=["FR", "DE", "PL"], reference="DE")
    assert [r["key"] for r in data["regions"]] == [p.key for p in library.regions]
    assert data["reference"]["key"] == "DE" and data["ratio_to"] == "DE"
    assert data["sentences"] == library.sentences()

    text = run_cli("--gpu", "A100 SXM4 80GB", "--count", "8", "--hours", "24", "--provider", "gcp",
                   "--location", "gcp:us-east4", "--near", "FR", "--limit", "5")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert "greenest first" in lines[0] and "ratio to gcp:us-east4" in lines[0]
    assert sum(1 for line in lines if line.startswith(("  ", ">")) and ":" in line[:40] and "gcp:" in line) >= 5
    assert any(line.startswith(">") and "gcp:us-east4" in line for line in lines)
    assert "more than in" in text.stdout and "greenest in the same country as FR" in text.stdout

    bad = run_cli("--energy-kwh", "1", "--provider", "nimbus")
    assert bad.returncode == 1 and "nimbus" in bad.stderr and "Traceback" not in bad.stderr


def test_figures_of_different_bases_are_never_compared_silently() -> None:
    """Google's operational (direct) figures beside lifecycle ones: gcp:europe-west9 sits on the French grid, so
    "2.7x greener than FR" and "moving would cut emissions 8x" were differences of basis, not of place."""
    comparison = compare_regions(100.0, locations=["gcp:northamerica-northeast1", "CA-QC", "gcp:europe-west9", "FR"],
                                 pue=1.0, reference="FR")
    by_key = {p.key: p for p in comparison.regions}
    assert by_key["gcp:europe-west9"].intensity_basis == "direct" and by_key["FR"].intensity_basis == "lifecycle"
    assert comparison.mixed_bases and set(comparison.bases) == {"direct", "lifecycle"}
    assert not by_key["gcp:europe-west9"].comparable and by_key["CA-QC"].comparable
    sentences = comparison.sentences()
    assert "mix bases" in sentences[0] and "not comparable" in sentences[0]
    assert not any("gcp:" in s for s in sentences[1:])  # no claim across bases
    assert "Moving from FR to CA-QC" in " ".join(sentences)
    data = comparison.to_dict()
    assert data["mixed_bases"] is True and data["regions"][0]["intensity_basis"] == "direct"
    # one basis: nothing to say about it
    same = compare_regions(1.0, locations=["FR", "DE"], reference="DE")
    assert not same.mixed_bases and "mix bases" not in " ".join(same.sentences())


def test_the_command_labels_each_basis() -> None:
    done = subprocess.run(
        [WATTPRINT, "compare-regions", "--energy-kwh", "100", "--locations",
         "gcp:northamerica-northeast1,CA-QC,gcp:europe-west9,FR", "--pue", "1", "--location", "FR"],
        capture_output=True, text=True, check=True,
    )
    assert "basis" in done.stdout and "direct" in done.stdout and "lifecycle" in done.stdout
    assert "not a like-for-like comparison" in done.stdout
    assert "Moving from FR to gcp:" not in done.stdout
