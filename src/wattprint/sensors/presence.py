"""Cheap checks of which hardware families can exist here, made before importing their sensor modules."""

from __future__ import annotations

import os

NVML_MODULE_VARIABLE = "WATTPRINT_NVML_MODULE"
"""Name of a module to use instead of ``pynvml`` (for tests on machines without GPUs)."""
AMDSMI_MODULE_VARIABLE = "WATTPRINT_AMDSMI_MODULE"


def nvidia_driver_present() -> bool:
    """Whether an NVIDIA kernel driver is loaded, checked without importing or loading NVML."""
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidiactl")


def amd_driver_present() -> bool:
    """Whether the amdgpu kernel driver (ROCm's compute interface) is present."""
    return os.path.exists("/dev/kfd") or os.path.isdir("/sys/module/amdgpu")


def nvidia_possible(module: object = None) -> bool:
    return module is not None or bool(os.environ.get(NVML_MODULE_VARIABLE)) or nvidia_driver_present()


def amd_possible(module: object = None) -> bool:
    return module is not None or bool(os.environ.get(AMDSMI_MODULE_VARIABLE)) or amd_driver_present()
