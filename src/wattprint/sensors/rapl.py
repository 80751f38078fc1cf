"""RAPL energy counters through the Linux powercap interface (Intel, and AMD since Linux 5.8).

Zones are discovered under ``/sys/class/powercap`` and ``/sys/devices/virtual/powercap`` (or the directories
in ``WATTPRINT_POWERCAP_ROOT``, separated by ``os.pathsep``). Each zone directory holds ``name``
(``package-0``, ``package-0-die-1``, ``dram``, ``psys``, ``core``, ``uncore``), ``energy_uj`` and
``max_energy_range_uj``. The counter wraps to zero after ``max_energy_range_uj``; a wrap is invisible if two
happen between reads, so the meter reads every zone well within a quarter of its shortest wrap period.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from wattprint._log import warn_once
from wattprint.core.methods import COUNTER, DeviceInfo
from wattprint.sensors.base import ProbeResult, Sensor, SensorError
from wattprint.sensors.family import ERROR, MISSING, OK, Diagnosis, SensorContext
from wattprint.sensors.powercap import DEFAULT_POWERCAP_ROOTS, POWERCAP_ROOT_VARIABLE, RAPL_DOMAINS, powercap_roots

__all__ = ["powercap_roots", "discover_zones", "select_zones", "RaplSensor", "RaplZone", "probe", "probe_family",
           "diagnose"]

DEFAULT_ROOTS = DEFAULT_POWERCAP_ROOTS
ENV_ROOT = POWERCAP_ROOT_VARIABLE
DOMAINS = RAPL_DOMAINS

_ZONE_DIR = re.compile(r"^(?P<control>[a-z][a-z0-9-]*):(?P<index>\d+(?::\d+)*)$")
_PACKAGE = re.compile(r"^package-(?P<socket>\d+)(?:-die-(?P<die>\d+))?$")

DEFAULT_MAX_POWER_W = {"package": 1000.0, "psys": 1000.0, "dram": 250.0}
"""Assumed ceilings on a zone's power when it states no power limit, for scheduling reads before wraps."""
WRAP_SAFETY = 0.25
"""Read at least four times per wrap period at the highest plausible power."""
MIN_POLL_S = 0.01
"""Floor on the period between reads: a tiny counter range must not make the sampler spin."""
MIN_RANGE_UJ = 1_000_000
"""A counter that wraps below 1 J cannot be followed at MIN_POLL_S; real zones wrap at kJ or more."""
MAX_ATTRIBUTE_BYTES = 4096
"""Sysfs attributes are small; nothing larger is read."""
STALL_S = 5.0
"""A counter that has not moved for this long is not a working counter (some VMs expose dummy zones)."""

UNCERTAINTY = {"intel": {"package": 0.05, "psys": 0.05, "dram": 0.15}, "amd": {"package": 0.15, "dram": 0.2}}

FIX_PERMISSIONS = (
    "Since 2020 (CVE-2020-8694) most distributions let only root read energy_uj. To let your user read it "
    "until the next boot: sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj "
    "/sys/class/powercap/intel-rapl:*:*/energy_uj ; to make it permanent, add the udev rule "
    "'ACTION==\"add\", SUBSYSTEM==\"powercap\", RUN+=\"/bin/chmod o+r /sys%p/energy_uj\"' to "
    "/etc/udev/rules.d/60-wattprint-rapl.rules ; or run the job as root. In a container, also mount "
    "/sys/class/powercap read-only into it."
)


@dataclass(frozen=True)
class RaplZone:
    path: str
    zone_id: str
    """Directory name, e.g. ``intel-rapl:0:2``."""
    control: str
    """``intel-rapl`` (MSR) or ``intel-rapl-mmio``."""
    name: str
    domain: str
    """``package``, ``dram``, ``psys``, ``core``, ``uncore`` or the raw name."""
    socket: int | None
    die: int | None
    max_energy_range_uj: int
    max_power_w: float | None
    """Largest power limit the zone declares, if any."""


def discover_zones(roots: Iterable[str]) -> list[RaplZone]:
    """Every zone directory under ``roots``, each once (the two kernel paths show the same zones)."""
    found: dict[str, RaplZone] = {}
    seen_real: set[str] = set()
    for root in roots:
        for path in _walk(root, depth=4):
            real = os.path.realpath(path)
            zone_id = os.path.basename(path)
            if real in seen_real or zone_id in found:
                continue
            seen_real.add(real)
            zone = _read_zone(path)
            if zone is not None:
                found[zone_id] = zone
    # Sub-zones (dram, core, ...) belong to the socket of their parent package.
    by_id = found
    for zone_id, zone in list(by_id.items()):
        if zone.socket is None and zone_id.count(":") >= 2:
            parent = by_id.get(zone_id.rsplit(":", 1)[0])
            if parent is not None and parent.socket is not None:
                by_id[zone_id] = _replace_socket(zone, parent.socket)
    return sorted(by_id.values(), key=lambda z: _sort_key(z.zone_id))


def _walk(root: str, depth: int) -> Iterable[str]:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            continue
        if not is_dir:
            continue
        if _ZONE_DIR.match(entry.name):
            yield entry.path
        if depth > 1 and (_ZONE_DIR.match(entry.name) or ":" not in entry.name):
            # control-type directories (``intel-rapl``) and zones hold further zones
            if entry.name in ("power", "subsystem", "device"):
                continue
            yield from _walk(entry.path, depth - 1)


def open_attribute(path: str) -> int:
    """Open a sysfs attribute without blocking; a FIFO or device put in its place is refused, not waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode) else "a special file"
        raise OSError(f"{path} is not a regular file ({kind}); a sysfs attribute always is")
    return fd


def _read_attribute(path: str) -> bytes:
    """The first MAX_ATTRIBUTE_BYTES of a sysfs attribute, read without blocking."""
    fd = open_attribute(path)
    try:
        return os.pread(fd, MAX_ATTRIBUTE_BYTES, 0)
    finally:
        os.close(fd)


def _read_text(path: str) -> str | None:
    try:
        return _read_attribute(path).decode("ascii", errors="replace").strip()
    except OSError:
        return None


def _read_zone(path: str) -> RaplZone | None:
    name = _read_text(os.path.join(path, "name"))
    if not name or not os.path.exists(os.path.join(path, "energy_uj")):
        return None
    match = _ZONE_DIR.match(os.path.basename(path))
    assert match is not None
    try:
        max_range = int(_read_text(os.path.join(path, "max_energy_range_uj")) or "0")
    except ValueError:
        max_range = 0
    package = _PACKAGE.match(name)
    if package:
        domain, socket = "package", int(package["socket"])
        die = int(package["die"]) if package["die"] is not None else None
    else:
        domain, socket, die = name, None, None
    limits = []
    for index in range(4):
        for suffix in ("power_limit_uw", "max_power_uw"):
            text = _read_text(os.path.join(path, f"constraint_{index}_{suffix}"))
            if text and text.isdigit() and int(text) > 0:
                limits.append(int(text) / 1e6)
    return RaplZone(
        path=path,
        zone_id=os.path.basename(path),
        control=match["control"],
        name=name,
        domain=domain,
        socket=socket,
        die=die,
        max_energy_range_uj=max_range,
        max_power_w=max(limits) if limits else None,
    )


def _replace_socket(zone: RaplZone, socket: int) -> RaplZone:
    from dataclasses import replace

    return replace(zone, socket=socket)


def _sort_key(zone_id: str) -> tuple[str, tuple[int, ...]]:
    control, _, index = zone_id.partition(":")
    return control, tuple(int(p) for p in index.split(":"))


def _read_uj(path: str) -> int:
    return int(_read_attribute(os.path.join(path, "energy_uj")))


def select_zones(
    zones: Sequence[RaplZone], domains: Sequence[str] = ("package", "dram")
) -> tuple[list[RaplZone], list[str]]:
    """Choose the zones to read, with a note for each duplicate or mirror dropped.

    ``core`` and ``uncore`` are parts of their package and never added to it. A zone seen through both the MSR
    (``intel-rapl``) and MMIO (``intel-rapl-mmio``) interfaces is read once, through MSR. Per-die zones that
    mirror one socket counter are read once. ``psys`` is read when asked for or when nothing else exists; it
    covers the whole SoC, so it replaces the package and dram zones rather than adding to them.
    """
    notes: list[str] = []
    wanted = [z for z in zones if z.domain in DOMAINS]
    msr_keys = {(z.domain, z.socket, z.die) for z in wanted if z.control == "intel-rapl"}
    unique: list[RaplZone] = []
    for zone in wanted:
        if zone.control != "intel-rapl" and (zone.domain, zone.socket, zone.die) in msr_keys:
            notes.append(f"RAPL zone {zone.zone_id} ({zone.name}) duplicates its MSR zone; read once.")
            continue
        unique.append(zone)

    # Mirrored per-die counters: several dies of one socket reporting the same counter.
    by_socket: dict[tuple[str, int | None], list[RaplZone]] = {}
    for zone in unique:
        if zone.domain == "package" and zone.die is not None:
            by_socket.setdefault((zone.control, zone.socket), []).append(zone)
    for dies in by_socket.values():
        if len(dies) < 2:
            continue
        values: dict[str, tuple[int, int] | None] = {}
        for zone in dies:
            try:
                values[zone.zone_id] = (_read_uj(zone.path), zone.max_energy_range_uj)
            except (OSError, ValueError):
                values[zone.zone_id] = None
        first = dies[0]
        for zone in dies[1:]:
            if values[zone.zone_id] is not None and values[zone.zone_id] == values[first.zone_id]:
                notes.append(
                    f"RAPL zones {first.name} and {zone.name} mirror the same socket counter; read once."
                )
                unique.remove(zone)

    selected_domains = set(domains)
    if "psys" in selected_domains:
        chosen = [z for z in unique if z.domain == "psys"]
        if chosen:
            return chosen, notes
        notes.append("RAPL psys was asked for but this machine has no psys zone; reading package and dram.")
    chosen = [z for z in unique if z.domain in selected_domains and z.domain != "psys"]
    if not chosen:
        chosen = [z for z in unique if z.domain == "psys"]
    return chosen, notes


class RaplSensor(Sensor):
    """One RAPL zone's energy counter, accumulated across wraps."""

    def __init__(
        self,
        zone: RaplZone,
        *,
        vendor: str,
        start_t: float,
        fallback: Callable[[float], list[Sensor]] | None = None,
    ) -> None:
        self.zone = zone
        self.key = f"rapl:{zone.path}"
        self.component = {"package": "cpu", "dram": "ram", "psys": "platform"}[zone.domain]
        self.device = zone.name
        self.method = COUNTER
        self.group = f"rapl-{self.component}"
        family = "amd" if vendor == "AuthenticAMD" else "intel"
        self.uncertainty_by_method = {COUNTER: UNCERTAINTY[family].get(zone.domain, 0.15)}
        self._fallback = fallback
        self._range_uj = zone.max_energy_range_uj
        ceiling = 2 * zone.max_power_w if zone.max_power_w else DEFAULT_MAX_POWER_W[zone.domain]
        self._ceiling_w = ceiling
        self._observed_w = 0.0
        self._fd = -1
        if self._range_uj <= 0:
            raise SensorError(
                f"RAPL zone {zone.name} ({zone.path}) has no readable max_energy_range_uj (missing, not a regular "
                "file, or not a number), so its wraps cannot be followed"
            )
        if self._range_uj < MIN_RANGE_UJ:
            raise SensorError(
                f"RAPL zone {zone.name} ({zone.path}) states max_energy_range_uj={self._range_uj}, too small a "
                f"range to follow (under {MIN_RANGE_UJ // 1_000_000} J it wraps faster than it can be read)"
            )
        try:
            self._fd = open_attribute(os.path.join(zone.path, "energy_uj"))
            self._last_uj = self._read()
        except PermissionError as error:
            raise SensorError(f"RAPL counter {zone.path}/energy_uj is not readable: {error}") from error
        except (OSError, ValueError) as error:
            self.close()
            raise SensorError(f"RAPL counter {zone.path}/energy_uj could not be read: {error}") from error
        self._last_t = start_t
        self._changed_t = start_t
        self._bad_reads = 0
        self._resets = 0
        self._reset_note = ""
        self._floored = False

    def _read(self) -> int:
        return int(os.pread(self._fd, 32, 0))

    def _unwrap(self, value: int, now: float) -> int:
        """Micro-joules since the previous value, across a wrap; a drop no wrap could explain is a reset.

        A wrap is plausible only if the energy it implies fits under the zone's power ceiling over the time since
        the counter last moved. Otherwise (a counter 1 µJ lower than before would imply the whole range, 262 kJ,
        in an instant) the counter was reset or glitched: what it shows now is counted only if it looks like a
        restart from zero (nearer zero than the old value, and plausible power), and the next step counts from
        the new value.
        """
        delta = value - self._last_uj
        if delta >= 0:
            return delta
        wrapped = delta + self._range_uj
        span = max(now - self._changed_t, MIN_POLL_S)
        allowed_uj = 2 * self._ceiling_w * span * 1e6
        if wrapped <= self._range_uj // 2 or wrapped <= allowed_uj:
            return wrapped
        # Nearer zero than the old value and plausible as energy since then: a restart; else a glitch.
        counted = value if value <= allowed_uj and value < self._last_uj - value else 0
        self._resets += 1
        self._reset_note = (
            f"RAPL counter {self.zone.name} ({self.zone.zone_id}) went back from {self._last_uj} to {value} µJ; "
            f"read as a wrap that would be {wrapped / 1e6:.6g} J in {span:.3g} s, far above the zone's ceiling of "
            f"{self._ceiling_w:.0f} W, so it was taken as a counter reset or glitch"
            + (f" ({self._resets} times)" if self._resets > 1 else "")
            + " and measuring continued from the new value; energy over such a step is not counted "
            "(or only what the counter shows since restarting from zero)."
        )
        warn_once(f"rapl-reset:{self.zone.path}", f"wattprint: {self._reset_note}")
        return counted

    def advance(self, now: float) -> tuple[float, str]:
        try:
            value = self._read()
        except ValueError:
            # A torn read of a file being rewritten; the next read will see the counter.
            self._bad_reads += 1
            if self._bad_reads > 100:
                raise SensorError(f"RAPL counter {self.zone.path}/energy_uj keeps returning garbage") from None
            return 0.0, COUNTER
        except OSError as error:
            raise SensorError(f"RAPL counter {self.zone.path}/energy_uj can no longer be read: {error}") from error
        self._bad_reads = 0
        delta = self._unwrap(value, now)
        energy = delta / 1e6
        elapsed = now - self._last_t
        if value != self._last_uj:
            self._changed_t = now
            if elapsed >= 0.001:
                self._observed_w = max(self._observed_w, energy / elapsed)
        elif now - self._changed_t >= STALL_S:
            raise SensorError(
                f"RAPL counter {self.zone.path}/energy_uj has not moved for {now - self._changed_t:.0f} s "
                "(a virtual machine exposing a dummy zone?)"
            )
        self._last_uj = value
        self._last_t = now
        return energy, COUNTER

    def last_good_t(self) -> float:
        return self._changed_t

    def next_poll_s(self) -> float:
        power = max(self._ceiling_w, 2 * self._observed_w)
        period = WRAP_SAFETY * (self._range_uj / 1e6) / power
        if period < MIN_POLL_S:
            self._floored = True
            return MIN_POLL_S
        return period

    def runtime_notes(self) -> list[str]:
        notes = [self._reset_note] if self._reset_note else []
        if self._floored:
            limit_w = WRAP_SAFETY * (self._range_uj / 1e6) / MIN_POLL_S
            notes.append(
                f"RAPL zone {self.zone.name} ({self.zone.zone_id}) wraps every {self._range_uj / 1e6:.6g} J, too "
                f"often to read safely at up to {self._ceiling_w:.0f} W; it is read every {MIN_POLL_S * 1000:.0f} "
                f"ms, so a wrap could be missed above about {limit_w:.0f} W."
            )
        return notes

    def fallback(self, since: float) -> list[Sensor]:
        return self._fallback(since) if self._fallback else []

    def info(self) -> DeviceInfo:
        return DeviceInfo(
            component=self.component,
            device=self.device,
            model=None,
            source="rapl",
            power_limit_w=self.zone.max_power_w,
            detail=f"{self.zone.zone_id} ({self.zone.control}), wraps at {self._range_uj / 1e6:.0f} J",
        )

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def probe(
    roots: Sequence[str],
    domains: Sequence[str],
    *,
    vendor: str,
    start_t: float,
    fallbacks: dict[str, Callable[[float], list[Sensor]]],
) -> ProbeResult:
    """Open the RAPL zones to read. Unreadable counters give one note explaining the fix, and no sensor."""
    zones = discover_zones(roots)
    chosen, notes = select_zones(zones, domains)
    sensors: list[Sensor] = []
    unreadable: list[RaplZone] = []
    for zone in chosen:
        component = {"package": "cpu", "dram": "ram", "psys": "platform"}[zone.domain]
        try:
            sensors.append(RaplSensor(zone, vendor=vendor, start_t=start_t, fallback=fallbacks.get(component)))
        except SensorError as error:
            if isinstance(error.__cause__, PermissionError):
                unreadable.append(zone)
            else:
                notes.append(f"{error}; not used.")
    if unreadable:
        names = ", ".join(z.name for z in unreadable)
        notes.append(
            f"RAPL energy counters ({names}) exist but this user (uid {os.getuid()}) cannot read them, so "
            f"the CPU{' and RAM' if any(z.domain == 'dram' for z in unreadable) else ''} energy is modelled "
            f"instead of measured. {FIX_PERMISSIONS}"
        )
        # A partial set of packages would undercount the CPU: measure all or model all.
        failed_components = {("cpu" if z.domain == "package" else "ram") for z in unreadable if z.domain != "psys"}
        if any(z.domain == "psys" for z in unreadable):
            failed_components |= {"cpu", "ram", "platform"}
        kept = [s for s in sensors if s.component not in failed_components]
        for sensor in sensors:
            if sensor not in kept:
                sensor.close()
        sensors = kept
    covers = {s.component for s in sensors}
    if "platform" in covers:
        covers |= {"cpu", "ram"}
    return ProbeResult(sensors=sensors, notes=notes, covers=frozenset(covers))


def probe_family(context: SensorContext) -> ProbeResult:
    """The registry's probe: the configured domains' zones, each falling back to the model of what it measured."""
    config = context.config
    fallbacks = {"cpu": context.fallback({"cpu"}), "ram": context.fallback({"ram"}),
                 "platform": context.fallback({"cpu", "ram"})}
    return probe(powercap_roots(config.powercap_root), config.rapl_domains, vendor=context.cpu().vendor or "",
                 start_t=context.start_t, fallbacks=fallbacks)


def diagnose(context: SensorContext) -> list[Diagnosis]:
    """Whether each zone's counter is readable, and else why not: no powercap, a virtual machine, permissions."""
    roots = powercap_roots(context.config.powercap_root)
    present = [r for r in roots if os.path.isdir(r)]
    if not present:
        vm = _vm_without_rapl(context)
        if vm:
            return vm
        in_container = os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv")
        fix = (
            "mount it into the container: docker run -v /sys/class/powercap:/sys/class/powercap:ro ..."
            if in_container
            else "load the intel_rapl_common (Intel) or amd_energy/rapl (AMD) kernel module"
        )
        return [Diagnosis("rapl", MISSING, f"no powercap interface ({', '.join(roots)} absent): CPU energy is "
                                           "modelled", fix)]
    chosen, notes = select_zones(discover_zones(present))
    if not chosen:
        vm = _vm_without_rapl(context)
        if vm:
            return vm
        return [Diagnosis("rapl", MISSING, f"powercap is present ({', '.join(present)}) but has no RAPL zones",
                          "load the intel_rapl_common kernel module (modprobe intel_rapl_common)")]
    found = []
    for zone in chosen:
        counter = f"{zone.path}/energy_uj"
        try:
            with open(counter, "rb") as handle:
                int(handle.read())
        except PermissionError:
            found.append(Diagnosis("rapl", ERROR, f"{zone.name} ({counter}) is not readable by this user",
                                   FIX_PERMISSIONS))
            continue
        except (OSError, ValueError) as error:
            found.append(Diagnosis("rapl", ERROR, f"{zone.name} ({counter}) cannot be read: {error}"))
            continue
        found.append(Diagnosis("rapl", OK, f"{zone.name}: energy counter readable ({zone.path}), "
                                           f"wraps at {zone.max_energy_range_uj / 1e6:.0f} J"))
    return found + [Diagnosis("rapl", OK, note) for note in notes]


def _vm_without_rapl(context: SensorContext) -> list[Diagnosis]:
    """On a virtual machine, the reason there is no RAPL (and no mount or module will give it one)."""
    from wattprint.sensors.presence import virtual_machine

    vm = virtual_machine(context.cpuinfo_path, context.dmi_root)
    if vm is None:
        return []
    return [Diagnosis("rapl", MISSING, f"no RAPL counters: this is a virtual machine ({vm}), and hypervisors do not "
                                       "expose RAPL to guests: CPU energy is modelled",
                      "nothing to fix on a VM; on bare metal (or a cloud bare-metal instance) RAPL counters are read; "
                      "'--cpu-tdp-w' or cpu_tdp_w sharpens the model")]
