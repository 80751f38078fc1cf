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


_HYPERVISOR_VENDORS = ("qemu", "kvm", "vmware", "xen", "innotek", "virtualbox", "parallels", "bochs", "amazon ec2",
                       "google", "openstack", "microsoft corporation", "alibaba cloud", "digitalocean", "hetzner")
"""Words in the DMI vendor or product name of virtual machines (Microsoft: Hyper-V and Azure)."""


def virtual_machine(cpuinfo_path: str = "/proc/cpuinfo", dmi_root: str = "/sys/class/dmi/id") -> str | None:
    """What shows this machine is a virtual machine (the CPU's ``hypervisor`` flag, or a hypervisor's name in
    the DMI tables), or None on bare metal: why a family such as RAPL cannot exist here."""
    from wattprint.hardware.cpu import read_cpuinfo

    for name in ("sys_vendor", "product_name", "bios_vendor"):
        try:
            with open(os.path.join(dmi_root, name), encoding="utf-8", errors="replace") as handle:
                value = handle.read().strip()
        except OSError:
            continue
        hypervisor = any(word in value.lower() for word in _HYPERVISOR_VENDORS)
        if hypervisor and ("microsoft" not in value.lower() or _hyperv_product(dmi_root)):
            return f"{value!r} in {os.path.join(dmi_root, name)}"
    if read_cpuinfo(cpuinfo_path).virtualized:
        return f"the hypervisor flag in {cpuinfo_path}"
    return None


def _hyperv_product(dmi_root: str) -> bool:
    """Microsoft also makes bare-metal Surface machines: a Hyper-V guest's product is 'Virtual Machine'."""
    try:
        with open(os.path.join(dmi_root, "product_name"), encoding="utf-8", errors="replace") as handle:
            return "virtual" in handle.read().lower()
    except OSError:
        return False
