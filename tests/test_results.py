"""Result arithmetic checked by hand: methods, uncertainties, aggregation."""

from __future__ import annotations

import math

import pytest

from wattprint.results import DeviceEnergy, aggregate, device_energy, weakest_method


def test_weakest_method() -> None:
    assert weakest_method(["counter", "counter"]) == "counter"
    assert weakest_method(["counter", "sampled"]) == "sampled"
    assert weakest_method(["model", "counter"]) == "model"
    with pytest.raises(ValueError):
        weakest_method([])


def test_a_device_that_fell_back_mid_window_is_reported_as_modelled() -> None:
    device = device_energy("cpu", "package-0", {"counter": 300.0, "model": 100.0}, {"counter": 0.05, "model": 0.4}, 10)
    assert device.energy_j == 400.0
    assert device.avg_power_w == 40.0
    assert device.method == "model"
    assert device.uncertainty_rel == pytest.approx((300 * 0.05 + 100 * 0.4) / 400)


def test_devices_of_a_component_add_linearly_components_in_quadrature() -> None:
    devices = [
        DeviceEnergy("cpu", "package-0", 100.0, 10.0, "counter", 0.05),
        DeviceEnergy("cpu", "package-1", 300.0, 30.0, "counter", 0.05),
        DeviceEnergy("gpu", "gpu:0", 1000.0, 100.0, "counter", 0.05),
        DeviceEnergy("ram", "ram", 50.0, 5.0, "model", 0.5),
    ]
    components, overall = aggregate(devices, 10.0)
    assert components["cpu"].energy_j == 400.0
    assert components["cpu"].uncertainty_rel == pytest.approx(0.05)
    assert components["cpu"].devices == ("package-0", "package-1")
    assert components["ram"].method == "model"
    expected = math.sqrt((400 * 0.05) ** 2 + (1000 * 0.05) ** 2 + (50 * 0.5) ** 2) / 1450
    assert overall == pytest.approx(expected)


def test_zero_energy_keeps_the_nominal_uncertainty() -> None:
    components, overall = aggregate([DeviceEnergy("gpu", "gpu:0", 0.0, 0.0, "counter", 0.05)], 1.0)
    assert components["gpu"].uncertainty_rel == 0.05
    assert overall == 0.0
