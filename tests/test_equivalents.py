"""Emissions in everyday terms, with the EPA factors and their vintages."""

from __future__ import annotations

import pytest

from wattprint import data
from wattprint.equivalents import DEFAULT_KEYS, KM_PER_MILE, equivalents, format_equivalents
from wattprint.errors import ConfigError


def test_every_equivalent_by_hand() -> None:
    found = {e.key: e for e in equivalents(1000.0)}
    assert list(found) == list(DEFAULT_KEYS)
    # 1,000 g / 12.4 g per charge = 80.645 smartphone charges
    assert found["smartphone_charges"].value == pytest.approx(80.645161, abs=1e-5)
    # 1,000 g / 393 g per mile = 2.5445 miles; 393 g per mile / 1.609344 = 244.199 g per km -> 4.0950 km
    assert found["car_miles"].value == pytest.approx(2.544529, abs=1e-5)
    assert found["car_km"].factor == pytest.approx(244.198879, abs=1e-5)
    assert found["car_km"].value == pytest.approx(4.095023, abs=1e-5)
    assert found["car_km"].value == pytest.approx(found["car_miles"].value * KM_PER_MILE)
    # 1,000 g / 60,000 g per seedling = 0.016667; 1,000 g / 820,000 g per acre-year = 0.0012195
    assert found["tree_seedlings_10_years"].value == pytest.approx(1 / 60)
    assert found["forest_acre_years"].value == pytest.approx(1000 / 820_000)


@pytest.mark.parametrize(
    ("key", "table_key"),
    [("smartphone_charges", "smartphone_charge"), ("car_miles", "car_mile_us"),
     ("tree_seedlings_10_years", "tree_seedling_10_years"), ("forest_acre_years", "us_forest_acre_year")],
)
def test_factors_sources_and_vintages_come_from_the_data_table(key: str, table_key: str) -> None:
    (item,) = equivalents(500.0, [key])
    row = data.equivalence(table_key)
    assert item.factor == row.g_co2e_per_unit
    assert item.source == row.source and "EPA" in item.source
    assert item.vintage == row.vintage and item.vintage
    assert item.note == row.status
    assert item.value * item.factor == pytest.approx(500.0)
    assert item.to_dict()["key"] == key


def test_the_unverified_forest_factor_says_so() -> None:
    (forest,) = equivalents(1.0, ["forest_acre_years"])
    assert "VERIFY" in forest.vintage or "verification" in forest.note


def test_the_summary_line() -> None:
    line = format_equivalents(100.0)
    # 100 / 12.4 = 8.06; 100 / 244.2 = 0.410 km; 100 / 393 = 0.254 miles
    assert line.startswith("≈ 8.06 smartphone charges · 0.410 km (0.254 miles) by car")
    assert "tree seedlings grown for 10 years" in line and "acres of US forest for a year" in line
    assert line.endswith("(US EPA equivalencies)")
    assert "\n" not in line
    assert "9,956 smartphone charges" in format_equivalents(123_456.0)
    assert format_equivalents(equivalents(100.0, ["car_miles"])) == "≈ 0.254 miles by car (US EPA equivalencies)"
    assert format_equivalents([]) == ""
    assert format_equivalents(0.0).startswith("≈ 0 smartphone charges")


def test_bad_input_is_an_error() -> None:
    with pytest.raises(ConfigError, match="unknown equivalent"):
        equivalents(1.0, ["bananas"])
    with pytest.raises(ConfigError, match="emissions_g"):
        equivalents(float("nan"))
