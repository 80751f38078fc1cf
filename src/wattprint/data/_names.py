"""Name normalisation for CPU and GPU models, shared by ``scripts/build_data.py`` and the lookups.

The build stores every table row under the normalised form of its name, and a lookup
normalises the string it is given (``/proc/cpuinfo`` "model name", an NVML device name)
the same way, so both sides always agree. Stdlib only.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "CLOUD_PROVIDERS",
    "CPU_NOISE_WORDS",
    "GpuName",
    "canonical_location_key",
    "cpu_model_tokens",
    "is_bare_model_number",
    "normalize_cpu_name",
    "normalize_gpu_name",
]

# Phrases removed from CPU names before tokenising. Order matters: frequencies first,
# so that "@ 2.50GHz" does not leave a stray number behind.
_CPU_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"\((?:r|tm|c)\)",  # Intel(R), Core(TM)
        r"[\u00ae\u2122\u00a9]",  # the same as symbols
        r"@\s*\d+(?:\.\d+)?\s*[gm]hz",  # "@ 2.50GHz"
        r"\b\d+(?:\.\d+)?\s*[gm]hz\b",  # a bare frequency
        r"\(\s*\d+(?:\.\d+)?\s*w\s*\)",  # a power annotation: "Q6600 (95W)"
        r"\b\d+(?:st|nd|rd|th)\s+gen(?:eration)?\b",  # "11th Gen", "7th Gen"
        r"\b(?:\d+|dual|triple|quad|hexa|six|octa|eight|ten|twelve|sixteen)[- ]cores?\b",  # "64-Core"
        r"\bw(?:ith|/)\s*radeon\b.*$",  # "with Radeon Graphics" (APU graphics suffix)
        r"\bradeon\b.*$",  # "Radeon R7, 10 Compute Cores 4C+6G"
        r"\b\d+\s+compute\s+cores\b.*$",
        r"\bversion\b.*$",  # "QEMU Virtual CPU version 2.5+"
    )
)
# "E5-2630v4" is written "E5-2630 v4" elsewhere: split the generation suffix off a 4-digit model.
_CPU_GENERATION = re.compile(r"(-\d{4}[a-z]?)v(\d)\b")
_CPU_SPLIT = re.compile(r"[\s,;()\[\]]+")

#: Words dropped from CPU names: vendor prefixes and generic words carrying no model information.
CPU_NOISE_WORDS: frozenset[str] = frozenset(
    {
        "intel",
        "amd",
        "apple",
        "genuine",
        "genuineintel",
        "authenticamd",
        "cpu",
        "processor",
        "apu",
        "soc",
        "0",  # "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz" (Sandy Bridge-EP stepping marker)
        "-",
    }
)

_BARE_NUMBER = re.compile(r"^\d+[a-z]{0,2}$")


def normalize_cpu_name(name: str) -> str:
    """Return the matching key of a CPU name: lower case, no trademarks, frequency, core count or vendor.

    ``'Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz'`` -> ``'xeon platinum 8259cl'``;
    ``'AMD EPYC 7B12 64-Core Processor'`` -> ``'epyc 7b12'``.
    """
    s = name.lower()
    for pattern in _CPU_PATTERNS:
        s = pattern.sub(" ", s)
    s = _CPU_GENERATION.sub(r"\1 v\2", s)
    tokens = [t.strip("-") for t in _CPU_SPLIT.split(s)]
    return " ".join(t for t in tokens if t and t not in CPU_NOISE_WORDS)


def cpu_model_tokens(normalized: str) -> frozenset[str]:
    """Tokens that carry a digit (model numbers such as ``8259cl``, ``i7-8700k``, ``v4``, the ``9`` of Ryzen 9)."""
    return frozenset(t for t in normalized.split() if any(c.isdigit() for c in t))


def is_bare_model_number(normalized: str) -> bool:
    """True when a normalised CPU name is only model numbers (``'6132'``, ``'1075t'``, ``'3015ce'``).

    Such a name has no family word, so it could stand for parts of different vendors or families
    (``6132`` is both an Opteron and a Xeon Gold): the build drops these rows.
    """
    tokens = normalized.split()
    return not tokens or all(_BARE_NUMBER.match(t) for t in tokens)


class GpuName(NamedTuple):
    """A GPU name split into its model (``base``), its form factor and its memory size."""

    base: tuple[str, ...]
    form: str | None  # "sxm", "pcie", "nvl", "dgxs" or None
    memory_gb: int | None
    memory_ambiguous: bool  # the name lists several sizes ("40/80GB")

    @property
    def key(self) -> str:
        """The table key: base words, then form factor, then memory (``'a100 sxm 80gb'``)."""
        parts = list(self.base)
        if self.form:
            parts.append(self.form)
        if self.memory_gb is not None:
            parts.append(f"{self.memory_gb}gb")
        return " ".join(parts)


_GPU_NOISE_WORDS = frozenset(
    {
        "nvidia",
        "tesla",
        "geforce",
        "quadro",
        "amd",
        "radeon",
        "jetson",
        "gigabyte",
        "graphics",
        "gpu",
        "chip",
        "oc",
        "hbm",
        "hbm2",
        "hbm2e",
        "hbm3",
        "hbm3e",
        "gddr5",
        "gddr5x",
        "gddr6",
        "gddr6x",
    }
)
_GPU_FORMS = {"pcie": "pcie", "nvl": "nvl", "dgxs": "dgxs", "sxm": "sxm"}
_GPU_MULTI_MEMORY = re.compile(r"\b\d+\s*/\s*\d+\s*gb\b")
_GPU_MEMORY = re.compile(r"\b(\d+)\s*gb\b")


def normalize_gpu_name(name: str) -> GpuName:
    """Split a GPU name into model words, form factor and memory.

    ``'NVIDIA A100-SXM4-40GB'`` -> ``GpuName(('a100',), 'sxm', 40, False)``;
    ``'Tesla V100-PCIE-16GB'`` -> ``GpuName(('v100',), 'pcie', 16, False)``;
    ``'NVIDIA GeForce RTX 4090'`` -> ``GpuName(('rtx', '4090'), None, None, False)``.
    """
    s = name.lower()
    s = re.sub(r"\((?:r|tm)\)|[\u00ae\u2122]", " ", s)
    s = re.sub(r"\bmig\b.*$", " ", s)  # MIG slice suffix: "MIG 1g.5gb"
    ambiguous = bool(_GPU_MULTI_MEMORY.search(s))
    s = _GPU_MULTI_MEMORY.sub(" ", s)
    memory: int | None = None
    found = _GPU_MEMORY.search(s)
    if found:
        memory = int(found.group(1))
        s = _GPU_MEMORY.sub(" ", s)
    s = re.sub(r"\btpu\s*v?(\d)", r"tpu v\1", s)
    s = re.sub(r"\brx\s+(\d)", r"rx\1", s)
    s = re.sub(r"[-_/,()\[\]]", " ", s)
    base: list[str] = []
    form: str | None = None
    for token in s.split():
        if token in _GPU_NOISE_WORDS:
            continue
        stem = re.sub(r"\d+$", "", token)
        if token in _GPU_FORMS or (stem == "sxm" and token != stem):
            form = _GPU_FORMS.get(stem, stem)
            continue
        base.append(token)
    return GpuName(tuple(base), form, memory, ambiguous)


# -- location keys ------------------------------------------------------------------------

#: Cloud providers with regions in the intensity table (the key prefix before ":").
CLOUD_PROVIDERS: frozenset[str] = frozenset({"gcp", "aws", "azure", "ovh", "scaleway", "coreweave", "seeweb"})
_PROVIDER_SYNONYMS = {
    "google": "gcp",
    "googlecloud": "gcp",
    "gce": "gcp",
    "amazon": "aws",
    "ec2": "aws",
    "microsoft": "azure",
    "ovhcloud": "ovh",
}


def canonical_location_key(key: str) -> str:
    """The case-insensitive form under which a location key or alias is indexed.

    ``'FR'`` -> ``'fr'``; ``'egrid:CAMX'`` -> ``'egrid:camx'``; ``'Azure:West Europe'`` ->
    ``'azure:westeurope'`` (cloud region names lose spaces and underscores); ``'google:us-east1'``
    -> ``'gcp:us-east1'`` (provider synonyms).
    """
    s = key.strip()
    if ":" not in s:
        return s.casefold()
    prefix, rest = s.split(":", 1)
    prefix = prefix.strip().casefold()
    prefix = _PROVIDER_SYNONYMS.get(prefix, prefix)
    rest = rest.strip()
    if prefix in CLOUD_PROVIDERS:
        rest = re.sub(r"[\s_]+", "", rest)
    return f"{prefix}:{rest.casefold()}"
