"""Emissions in everyday terms, with the EPA factors and their vintages."""

from __future__ import annotations

import pytest

from wattprint import data
from wattprint.accounting.equivalents import DEFAULT_KEYS, KM_PER_MILE, equivalents, format_equivalents
from wattprint.core.errors import ConfigError


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
    # 1,000 g / 60,000 g per seedling = 0.016667
    assert found["tree_seedlings_10_years"].value == pytest.approx(1 / 60)


@pytest.mark.parametrize(
    ("key", "table_key"),
    [("smartphone_charges", "smartphone_charge"), ("car_miles", "car_mile_us"),
     ("tree_seedlings_10_years", "tree_seedling_10_years")],
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


def test_the_forest_factor_of_unsettled_vintage_is_not_offered() -> None:
    """The EPA forest factor's current vintage could not be settled from the data: it is not an equivalent."""
    assert "forest_acre_years" not in DEFAULT_KEYS
    with pytest.raises(ConfigError, match="unknown equivalent"):
        equivalents(1.0, ["forest_acre_years"])
    with pytest.raises(LookupError):
        data.equivalence("us_forest_acre_year")


def test_km_and_miles_carry_their_own_labels() -> None:
    found = {e.key: e for e in equivalents(1000.0)}
    assert found["car_km"].label != found["car_miles"].label
    assert found["car_km"].label.startswith("km ") and found["car_miles"].label.startswith("miles ")


def test_the_summary_line() -> None:
    line = format_equivalents(100.0)
    # 100 / 12.4 = 8.06; 100 / 244.2 = 0.410 km; 100 / 393 = 0.254 miles: two significant figures
    assert line.startswith("≈ 8.1 smartphone charges · 0.41 km (0.25 miles) by car")
    assert line.endswith("(US EPA equivalencies)")
    assert "\n" not in line
    # 123,456 g / 12.4 = 9,956 -> 9,956 to two figures is 10,000; / 60,000 g = 2.1 seedlings
    assert "10,000 smartphone charges" in format_equivalents(123_456.0)
    assert "2.1 tree seedlings grown for 10 years" in format_equivalents(123_456.0)
    assert format_equivalents(equivalents(100.0, ["car_miles"])) == "≈ 0.25 miles by car (US EPA equivalencies)"
    assert format_equivalents([]) == ""


def test_only_equivalents_that_read_as_something_are_shown() -> None:
    """``1.312e-07 tree seedlings`` means nothing: below a tenth of a unit an equivalent is left out."""
    line = format_equivalents(100.0)  # 100 g / 60,000 g per seedling = 0.0017 seedlings
    assert "seedling" not in line and "e-" not in line
    assert format_equivalents(0.0) == ""
    assert format_equivalents(0.5) == ""  # 0.04 charges, 0.002 km
    (charges,) = equivalents(0.00787, ["smartphone_charges"])
    assert not charges.readable


def test_bad_input_is_an_error() -> None:
    with pytest.raises(ConfigError, match="unknown equivalent"):
        equivalents(1.0, ["bananas"])
    with pytest.raises(ConfigError, match="emissions_g"):
        equivalents(float("nan"))
