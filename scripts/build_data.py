#!/usr/bin/env python3
"""Derive wattprint's embedded data tables from the raw public datasets.

    python scripts/build_data.py [--raw-data DIR] [--out DIR] [--check]

The raw datasets live outside the package (default ``../shared/data`` relative to the
repository root, or ``$WATTPRINT_RAW_DATA``); their provenance is in that folder's
``SOURCES.md``. This script reads them, keeps what wattprint needs, records for every
value its source, year and licence, and writes small CSV tables, an attribution file and
a manifest into ``src/wattprint/data/``. The committed tables are this script's output:
running it again on the same inputs gives byte-identical files (``--check`` verifies that).

Values that cannot be used (malformed numbers, placeholders, contradictory duplicates)
are dropped with a warning on stderr and counted in ``manifest.json``; nothing is dropped
silently. Stdlib only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import io
import json
import math
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DATA = REPO_ROOT / "src" / "wattprint" / "data"
DEFAULT_RAW = REPO_ROOT.parent / "shared" / "data"
RAW_ENV = "WATTPRINT_RAW_DATA"


def _load_names() -> ModuleType:
    """Import ``wattprint/data/_names.py`` by path, so the build never imports the wattprint package."""
    path = PACKAGE_DATA / "_names.py"
    spec = importlib.util.spec_from_file_location("_wattprint_data_names", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file is part of the repository
        raise SystemExit(f"build_data: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


names = _load_names()

# --------------------------------------------------------------------------------------
# Licences, datasets and file names
# --------------------------------------------------------------------------------------

CC_BY = "CC-BY-4.0"
MIT = "MIT"
APACHE = "Apache-2.0"
ODBL = "ODbL-1.0"
PUBLIC_DOMAIN = "public-domain"
FACTS = "facts (cited)"

LB_PER_MWH_TO_G_PER_KWH = 0.45359237  # 1 lb = 453.59237 g; 1 MWh = 1000 kWh
MAX_FALLBACK_YEARS = 3  # an entity whose latest value is missing may fall back this far, no further


@dataclass(frozen=True)
class Dataset:
    """One upstream dataset, as recorded in ATTRIBUTION.md."""

    folder: str
    title: str
    upstream: str
    version: str
    licence: str
    attribution: str
    changes: str


DATASETS: dict[str, Dataset] = {
    d.folder: d
    for d in (
        Dataset(
            "ember",
            "Ember - Yearly Electricity Data (country overview; US and India subnational overview)",
            "https://github.com/ember-climate/ember-data-api (data/); https://ember-energy.org/data/",
            "commit 02ce82d403b50d2cd2acd792505411088891b34e (2025-05-21)",
            "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), as stated per table in Ember's metadata.json",
            "Contains data from Ember - Yearly Electricity Data (ember-energy.org), licensed under CC BY 4.0.",
            "Kept the latest year with a positive intensity for each country and Indian state (values as "
            "published); re-keyed by ISO 3166-1/3166-2 codes.",
        ),
        Dataset(
            "codecarbon",
            "CodeCarbon data tables (US state eGRID rates, China provincial factors, Canada mix, "
            "Nordic bidding zones, CPU TDP)",
            "https://pypi.org/project/codecarbon/ (wheel codecarbon-3.3.2, codecarbon/data/); "
            "https://github.com/mlco2/codecarbon",
            "3.3.2 (PyPI, 2026-10)",
            "MIT. Underlying figures: EPA eGRID2023 (US public domain), China MEE/NBS Announcement 2025 "
            "No. 47 (official figures), ENTSO-E Transparency generation data, Intel/AMD specifications",
            "CPU TDP and regional factors from CodeCarbon (https://github.com/mlco2/codecarbon, MIT licence); "
            "US state rates from EPA eGRID2023; China provincial factors from the Ministry of Ecology and "
            "Environment of China.",
            "Converted lb/MWh to g/kWh; computed Canadian provincial intensities from the generation mix; "
            "normalised CPU names; dropped malformed and contradictory rows.",
        ),
        Dataset(
            "gcp-region-carbon-info",
            "Google Cloud region carbon information (yearly)",
            "https://github.com/GoogleCloudPlatform/region-carbon-info (data/yearly/)",
            "commit 49f3f26bfd682305e8d9b572fea1f811900421a9 (2025-12-03)",
            "Apache-2.0",
            "Google Cloud region carbon data, Copyright Google LLC, Apache License 2.0.",
            "Kept the latest year (2024) per region and added the country/zone of each region.",
        ),
        Dataset(
            "cloud-carbon-footprint",
            "Cloud Carbon Footprint (grid emission factors, cloud constants)",
            "https://github.com/cloud-carbon-footprint/ccf-coefficients and "
            "https://github.com/cloud-carbon-footprint/cloud-carbon-footprint",
            "ccf-coefficients commit b0032d928c787cf76cecd7d1d611c5b46f366e29 (2026-04-24); "
            "cloud-carbon-footprint commit b7a049c7d25c0022919ab9010199dd9e77aa4577 (2024-03-25)",
            "Apache-2.0",
            "Emission factors and coefficients from Cloud Carbon Footprint (https://www.cloudcarbonfootprint.org), "
            "Apache License 2.0.",
            "Converted metric t/kWh to g/kWh; normalised Azure region names; dropped malformed values.",
        ),
        Dataset(
            "mlco2-impact",
            "ML CO2 Impact (GPU specifications, cloud region locations)",
            "https://github.com/mlco2/impact (data/)",
            "commit d0d3ee5a71ea222ac344a94900642ed2ce649af4 (2026-03-09)",
            "MIT",
            "GPU figures and cloud region locations from ML CO2 Impact (Lacoste et al. 2019, MIT licence).",
            "Normalised GPU names and corrected two swapped V100 TDPs (see gpu_tdp.csv notes); for cloud "
            "regions used only the locations (its 2019-2021 intensities are superseded).",
        ),
        Dataset(
            "green-algorithms",
            "Green Algorithms data v3.0",
            "https://github.com/GreenAlgorithms/green-algorithms-tool (data/latest = data/v3.0)",
            "commit 30df2feead1c7f5db87a3d86ca1239470a0cd415 (2025-02-05)",
            "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
            "Contains data from Green Algorithms (Lannelongue, Grealey and Inouye, 'Green Algorithms: "
            "Quantifying the Carbon Footprint of Computation', Advanced Science 2021, "
            "doi:10.1002/advs.202002761), licensed under CC BY 4.0.",
            "Merged CPU/GPU TDP and core counts into wattprint's tables; used PUE defaults, reference values "
            "and region locations; dropped placeholder rows.",
        ),
        Dataset(
            "electricitymaps-yearly",
            "Electricity Maps yearly carbon intensity (free yearly data, republished by co2.js)",
            "https://www.electricitymaps.com/ via https://github.com/thegreenwebfoundation/co2.js "
            "(data/output/electricity-maps/)",
            "co2.js commit 27cbe8328aeaad0824fb07b3640dc45b72228c7b (data files of 2026-02-04)",
            "ODbL 1.0 (https://opendatacommons.org/licenses/odbl/1-0/)",
            "Contains data from Electricity Maps (https://www.electricitymaps.com), made available under the "
            "Open Database License (ODbL) 1.0.",
            "Kept the latest year per zone and the renewable and carbon-free shares; written to a separate "
            "file, intensity_electricitymaps.csv, which stays under the ODbL.",
        ),
        Dataset(
            "egrid",
            "EPA eGRID2023 (rev2) subregion CO2e total output emission rates (SRC2ERTA)",
            "https://www.epa.gov/egrid (compiled copy in the raw data folder)",
            "eGRID2023 rev2 (released 2025-06)",
            "US Government work, public domain",
            "Source: U.S. Environmental Protection Agency, Emissions & Generation Resource Integrated "
            "Database (eGRID2023).",
            "Recomputed g/kWh from lb/MWh.",
        ),
        Dataset(
            "compiled-factors",
            "Compiled factors (IPCC AR5 per-fuel lifecycle factors, EPA equivalencies, provider PUE/WUE, "
            "hardware power defaults, embodied reference values)",
            "compiled by hand from the sources named per row",
            "raw data snapshot",
            "Facts from IPCC, EPA, NVIDIA, AWS, Microsoft, Google, Meta and Uptime Institute (cited per row); "
            "figures from Cloud Carbon Footprint (Apache-2.0), Green Algorithms (CC BY 4.0) and CodeCarbon (MIT)",
            "Per-fuel lifecycle factors: IPCC AR5 WG3 Annex III, Table A.III.2 (Schloemer et al. 2014). "
            "Equivalencies: US EPA Greenhouse Gas Equivalencies Calculator. Each row names its source.",
            "Assigned stable keys; parsed years; dropped values that are not numbers.",
        ),
        Dataset(
            "inference",
            "The ML.ENERGY Leaderboard v3 (Chung et al.): measured GPU energy of LLM, multimodal and diffusion "
            "inference on H100 and B200 GPUs",
            "https://ml.energy/leaderboard (data: https://github.com/ml-energy/leaderboard, public/data/models/*.json)",
            "leaderboard data last_updated 2026-02-16, commit 0cd52dab897c5d91a45f4d413038f3b8b4251b0f (2026-02-27)",
            "The repository carries no licence: only the measured figures (facts) are used, with citation",
            "Figures from The ML.ENERGY Leaderboard (Chung et al., https://ml.energy/leaderboard), v3.",
            "Kept the energy figures and the configuration of each measurement (model size, GPU, batch limit, "
            "precision, resolution and steps); rounded to 5 significant figures; numbered configurations that share "
            "GPUs and batch; the upstream JSON is not shipped. A row's upstream file is "
            "public/data/models/<model with '/' as '__'>__<task>.json.",
        ),
    )
}

GENERATED_FILES = (
    "intensity.csv",
    "intensity_electricitymaps.csv",
    "ELECTRICITYMAPS_ODbL_NOTICE.md",
    "cpu_tdp.csv",
    "gpu_tdp.csv",
    "pue_wue.csv",
    "equivalences.csv",
    "constants.csv",
    "inference_energy.csv",
    "ATTRIBUTION.md",
    "manifest.json",
)

INTENSITY_COLUMNS = (
    "key",
    "kind",
    "name",
    "country",
    "continent",
    "intensity_g_per_kwh",
    "year",
    "basis",
    "source",
    "licence",
    "note",
    "aliases",
    "provider",
    "region",
    "zone",
    "grid_factor",
    "cfe_fraction",
    "renewable_fraction",
)
KIND_ORDER = (
    "world",
    "country",
    "us-state",
    "egrid",
    "in-state",
    "cn-province",
    "ca-province",
    "nordic-zone",
    "em-zone",
    "cloud-region",
)

# --------------------------------------------------------------------------------------
# Hand-written reference mappings (ISO codes and region locations are facts)
# --------------------------------------------------------------------------------------

# ISO 3166-1 alpha-3 -> alpha-2 for every code the datasets use (XKX/XK: Kosovo, user-assigned).


def _pairs(text: str) -> dict[str, str]:
    """Parse whitespace-separated ``KEY=VALUE`` pairs."""
    return dict(item.split("=", 1) for item in text.split())


ISO3_TO_ISO2 = _pairs(
    """
ABW=AW AFG=AF AGO=AO AIA=AI ALA=AX ALB=AL AND=AD ARE=AE ARG=AR ARM=AM ASM=AS ATG=AG AUS=AU AUT=AT AZE=AZ
BDI=BI BEL=BE BEN=BJ BES=BQ BFA=BF BGD=BD BGR=BG BHR=BH BHS=BS BIH=BA BLR=BY BLZ=BZ BMU=BM BOL=BO BRA=BR
BRB=BB BRN=BN BTN=BT BWA=BW CAF=CF CAN=CA CHE=CH CHL=CL CHN=CN CIV=CI CMR=CM COD=CD COG=CG COK=CK COL=CO
COM=KM CPV=CV CRI=CR CUB=CU CUW=CW CYM=KY CYP=CY CZE=CZ DEU=DE DJI=DJ DMA=DM DNK=DK DOM=DO DZA=DZ ECU=EC
EGY=EG ERI=ER ESH=EH ESP=ES EST=EE ETH=ET FIN=FI FJI=FJ FLK=FK FRA=FR FRO=FO FSM=FM GAB=GA GBR=GB GEO=GE
GHA=GH GIB=GI GIN=GN GLP=GP GMB=GM GNB=GW GNQ=GQ GRC=GR GRD=GD GRL=GL GTM=GT GUF=GF GUM=GU GUY=GY HKG=HK
HND=HN HRV=HR HTI=HT HUN=HU IDN=ID IND=IN IRL=IE IRN=IR IRQ=IQ ISL=IS ISR=IL ITA=IT JAM=JM JOR=JO JPN=JP
KAZ=KZ KEN=KE KGZ=KG KHM=KH KIR=KI KNA=KN KOR=KR KWT=KW LAO=LA LBN=LB LBR=LR LBY=LY LCA=LC LIE=LI LKA=LK
LSO=LS LTU=LT LUX=LU LVA=LV MAC=MO MAR=MA MCO=MC MDA=MD MDG=MG MDV=MV MEX=MX MHL=MH MKD=MK MLI=ML MLT=MT
MMR=MM MNE=ME MNG=MN MNP=MP MOZ=MZ MRT=MR MSR=MS MTQ=MQ MUS=MU MWI=MW MYS=MY MYT=YT NAM=NA NCL=NC NER=NE
NGA=NG NIC=NI NIU=NU NLD=NL NOR=NO NPL=NP NRU=NR NZL=NZ OMN=OM PAK=PK PAN=PA PER=PE PHL=PH PLW=PW PNG=PG
POL=PL PRI=PR PRK=KP PRT=PT PRY=PY PSE=PS PYF=PF QAT=QA REU=RE ROU=RO RUS=RU RWA=RW SAU=SA SDN=SD SEN=SN
SGP=SG SHN=SH SLB=SB SLE=SL SLV=SV SMR=SM SOM=SO SPM=PM SRB=RS SSD=SS STP=ST SUR=SR SVK=SK SVN=SI SWE=SE
SWZ=SZ SXM=SX SYC=SC SYR=SY TCA=TC TCD=TD TGO=TG THA=TH TJK=TJ TKM=TM TLS=TL TON=TO TTO=TT TUN=TN TUR=TR
TUV=TV TWN=TW TZA=TZ UGA=UG UKR=UA URY=UY USA=US UZB=UZ VAT=VA VCT=VC VEN=VE VGB=VG VIR=VI VNM=VN VUT=VU
WLF=WF WSM=WS XKX=XK YEM=YE ZAF=ZA ZMB=ZM ZWE=ZW
"""
)

# Ember's Indian state names -> ISO 3166-2:IN (codes as revised in 2023), with earlier codes as aliases.
INDIA_STATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Andaman and Nicobar": ("IN-AN", ()),
    "Andhra Pradesh": ("IN-AP", ()),
    "Arunachal Pradesh": ("IN-AR", ()),
    "Assam": ("IN-AS", ()),
    "Bihar": ("IN-BR", ()),
    "Chandigarh": ("IN-CH", ()),
    "Chhattisgarh": ("IN-CG", ("IN-CT",)),
    "Dadra and Nagar Haveli and Daman and Diu": ("IN-DH", ("IN-DN", "IN-DD")),
    "Delhi": ("IN-DL", ()),
    "Goa": ("IN-GA", ()),
    "Gujarat": ("IN-GJ", ()),
    "Haryana": ("IN-HR", ()),
    "Himachal Pradesh": ("IN-HP", ()),
    "Jammu and Kashmir": ("IN-JK", ()),
    "Jharkhand": ("IN-JH", ()),
    "Karnataka": ("IN-KA", ()),
    "Kerala": ("IN-KL", ()),
    "Ladakh": ("IN-LA", ()),
    "Lakshadweep": ("IN-LD", ()),
    "Madhya Pradesh": ("IN-MP", ()),
    "Maharashtra": ("IN-MH", ()),
    "Manipur": ("IN-MN", ()),
    "Meghalaya": ("IN-ML", ()),
    "Mizoram": ("IN-MZ", ()),
    "Nagaland": ("IN-NL", ()),
    "Odisha": ("IN-OD", ("IN-OR",)),
    "Puducherry": ("IN-PY", ()),
    "Punjab": ("IN-PB", ()),
    "Rajasthan": ("IN-RJ", ()),
    "Sikkim": ("IN-SK", ()),
    "Tamil Nadu": ("IN-TN", ()),
    "Telangana": ("IN-TS", ("IN-TG",)),
    "Tripura": ("IN-TR", ()),
    "Uttar Pradesh": ("IN-UP", ()),
    "Uttarakhand": ("IN-UK", ("IN-UT",)),
    "West Bengal": ("IN-WB", ()),
}
INDIA_NOT_STATES = {"India Total", "Others"}

CANADA_PROVINCES = {
    "alberta": ("CA-AB", "Alberta"),
    "british columbia": ("CA-BC", "British Columbia"),
    "manitoba": ("CA-MB", "Manitoba"),
    "new brunswick": ("CA-NB", "New Brunswick"),
    "newfoundland and labrador": ("CA-NL", "Newfoundland and Labrador"),
    "nova scotia": ("CA-NS", "Nova Scotia"),
    "northwest territories": ("CA-NT", "Northwest Territories"),
    "nunavut": ("CA-NU", "Nunavut"),
    "ontario": ("CA-ON", "Ontario"),
    "prince edward island": ("CA-PE", "Prince Edward Island"),
    "quebec": ("CA-QC", "Quebec"),
    "saskatchewan": ("CA-SK", "Saskatchewan"),
    "yukon": ("CA-YT", "Yukon"),
}
# CodeCarbon's Canadian fuel names -> rows of compiled-factors/emission_factors_by_source.csv.
# None: no factor there; the build fails if such a fuel has a non-zero share.
CANADA_FUEL_FACTOR_ROWS: dict[str, str | None] = {
    "naturalGas": "gas",
    "coal": "coal",
    "petroleum": "oil",
    "biomass": "biomass",
    "nuclear": "nuclear",
    "hydro": "hydro",
    "wind": "wind_onshore",
    "solar": "solar_pv_utility",
    "tidal": None,
    "other": None,
}

# Cloud regions -> the wattprint location key of the grid they draw from (country, state, province
# or bidding zone). Written from the providers' published region locations; cross-checked in the
# build against Green Algorithms, ML CO2 Impact and CodeCarbon where those list the region.
GCP_REGION_ZONES = {
    "africa-south1": "ZA",
    "asia-east1": "TW",
    "asia-east2": "HK",
    "asia-northeast1": "JP",
    "asia-northeast2": "JP",
    "asia-northeast3": "KR",
    "asia-south1": "IN-MH",
    "asia-south2": "IN-DL",
    "asia-southeast1": "SG",
    "asia-southeast2": "ID",
    "australia-southeast1": "AU",
    "australia-southeast2": "AU",
    "europe-central2": "PL",
    "europe-north1": "FI",
    "europe-north2": "SE3",
    "europe-southwest1": "ES",
    "europe-west1": "BE",
    "europe-west2": "GB",
    "europe-west3": "DE",
    "europe-west4": "NL",
    "europe-west6": "CH",
    "europe-west8": "IT",
    "europe-west9": "FR",
    "europe-west10": "DE",
    "europe-west12": "IT",
    "me-central1": "QA",
    "me-central2": "SA",
    "me-west1": "IL",
    "northamerica-northeast1": "CA-QC",
    "northamerica-northeast2": "CA-ON",
    "northamerica-south1": "MX",
    "southamerica-east1": "BR",
    "southamerica-west1": "CL",
    "us-central1": "US-IA",
    "us-central2": "US-OK",
    "us-east1": "US-SC",
    "us-east2": "US-GA",
    "us-east4": "US-VA",
    "us-east5": "US-OH",
    "us-south1": "US-TX",
    "us-west1": "US-OR",
    "us-west2": "US-CA",
    "us-west3": "US-UT",
    "us-west4": "US-NV",
}
AWS_REGION_ZONES = {
    "af-south-1": "ZA",
    "ap-east-1": "HK",
    "ap-northeast-1": "JP",
    "ap-northeast-2": "KR",
    "ap-northeast-3": "JP",
    "ap-south-1": "IN-MH",
    "ap-southeast-1": "SG",
    "ap-southeast-2": "AU",
    "ap-southeast-3": "ID",
    "ca-central-1": "CA-QC",
    "cn-north-1": "CN-BJ",
    "cn-northwest-1": "CN-NX",
    "eu-central-1": "DE",
    "eu-north-1": "SE3",
    "eu-south-1": "IT",
    "eu-west-1": "IE",
    "eu-west-2": "GB",
    "eu-west-3": "FR",
    "me-central-1": "AE",
    "me-south-1": "BH",
    "sa-east-1": "BR",
    "us-east-1": "US-VA",
    "us-east-2": "US-OH",
    "us-gov-east-1": "US-OH",
    "us-gov-west-1": "US",  # AWS does not publish the state of GovCloud (US-West)
    "us-west-1": "US-CA",
    "us-west-2": "US-OR",
}
# Azure: API region names (lower case); "" = a geography or pseudo-region with no single grid.
AZURE_REGION_ZONES = {
    "apeast": "HK",
    "apsoutheast": "SG",
    "asia": "",
    "asiapacific": "",
    "australia": "AU",
    "australiacentral": "AU",
    "australiacentral2": "AU",
    "australiaeast": "AU",
    "australiasoutheast": "AU",
    "belgiumcentral": "BE",
    "brazil": "BR",
    "brazilsouth": "BR",
    "brazilsoutheast": "BR",
    "canada": "CA",
    "canadacentral": "CA-ON",
    "canadaeast": "CA-QC",
    "centralindia": "IN-MH",
    "centralus": "US-IA",
    "centraluseuap": "US-IA",
    "centralusstage": "US-IA",
    "eastasia": "HK",
    "eastasiastage": "HK",
    "eastus": "US-VA",
    "eastus2": "US-VA",
    "eastus2euap": "US-VA",
    "eastus2stage": "US-VA",
    "eastus3": "US-GA",
    "eastusstage": "US-VA",
    "finlandcentral": "FI",
    "france": "FR",
    "francecentral": "FR",
    "francesouth": "FR",
    "germany": "DE",
    "germanynorth": "DE",
    "germanywestcentral": "DE",
    "india": "IN",
    "japan": "JP",
    "japaneast": "JP",
    "japanwest": "JP",
    "jioindiacentral": "IN-MH",
    "jioindiawest": "IN-GJ",
    "korea": "KR",
    "koreacentral": "KR",
    "koreasouth": "KR",
    "northcentralus": "US-IL",
    "northcentralusstage": "US-IL",
    "northeurope": "IE",
    "norway": "NO",
    "norwayeast": "NO1",
    "norwaywest": "NO2",
    "southafrica": "ZA",
    "southafricanorth": "ZA",
    "southafricawest": "ZA",
    "southcentralus": "US-TX",
    "southcentralusstage": "US-TX",
    "southeastasia": "SG",
    "southeastasiastage": "SG",
    "southindia": "IN-TN",
    "swedencentral": "SE3",
    "switzerland": "CH",
    "switzerlandnorth": "CH",
    "switzerlandwest": "CH",
    "uae": "AE",
    "uaecentral": "AE",
    "uaenorth": "AE",
    "uk": "GB",
    "uksouth": "GB",
    "ukwest": "GB",
    "unitedstates": "US",
    "unitedstateseuap": "US",
    "usnorth": "US",
    "westcentralus": "US-WY",
    "westeurope": "NL",
    "westindia": "IN-MH",
    "westus": "US-CA",
    "westus2": "US-WA",
    "westus2stage": "US-WA",
    "westus3": "US-AZ",
    "westusstage": "US-CA",
}
# Providers found only in ML CO2 Impact: (provider, region id) -> zone. Scaleway's row has no
# region id; wattprint keys it by its region name ("paris") with the alias "fr-par".
OTHER_REGION_ZONES = {
    ("coreweave", "las1"): "US-NV",
    ("coreweave", "lga1"): "US-NJ",
    ("coreweave", "ord1"): "US-IL",
    ("ovh", "bhs"): "CA-QC",
    ("ovh", "gra"): "FR",
    ("scaleway", "paris"): "FR",
    ("seeweb", "fro2"): "IT",
}
OTHER_REGION_ALIASES = {("scaleway", "paris"): ("scaleway:fr-par",)}
PROVIDER_NAMES = {
    "gcp": "Google Cloud",
    "aws": "AWS",
    "azure": "Azure",
    "coreweave": "CoreWeave",
    "ovh": "OVHcloud",
    "scaleway": "Scaleway",
    "seeweb": "Seeweb",
}

# --------------------------------------------------------------------------------------
# Known-bad rows, applied explicitly and reported (never silently)
# --------------------------------------------------------------------------------------

GPU_DROPPED_ROWS = {
    ("mlco2-impact", "GTX 750"): "implausible row (1111 TFLOPS FP32, 24 GB memory, 250 W for a GTX 750, "
    "a 55 W card with 1-2 GB)",
}
GPU_TDP_CORRECTIONS = {
    ("mlco2-impact", "Tesla V100-PCIE-16GB"): (
        300.0,
        250.0,
        "TDP corrected from 300 W: NVIDIA's V100 datasheet gives 250 W for PCIe and 300 W for SXM2; "
        "ML CO2 Impact swaps the two 16 GB rows (its own SXM2-32GB row says 300 W)",
    ),
    ("mlco2-impact", "Tesla V100-SXM2-16GB"): (
        250.0,
        300.0,
        "TDP corrected from 250 W: NVIDIA's V100 datasheet gives 300 W for SXM2 and 250 W for PCIe; "
        "ML CO2 Impact swaps the two 16 GB rows (its own SXM2-32GB row says 300 W)",
    ),
}

# Keys for the hand-compiled constant rows: (file, first column, second column) -> (key, unit).
HARDWARE_CONSTANT_KEYS = {
    ("green-algorithms", "memoryPower"): "ram.power_w_per_gb.green_algorithms",
    ("cloud-carbon-footprint", "MEMORY_COEFFICIENT"): "ram.energy_kwh_per_gb_hour.ccf",
    ("codecarbon(v3)", "RAM_SLOT_POWER_X86"): "ram.power_w_per_dimm.codecarbon",
    ("codecarbon(pre-v3)", "RAM heuristic"): "ram.power_w_per_gb.codecarbon_legacy",
    ("codecarbon", "POWER_CONSTANT"): "cpu.default_power_w.codecarbon",
    ("codecarbon", "CONSUMPTION_PERCENTAGE_CONSTANT"): "cpu.default_load_fraction.codecarbon",
    ("codecarbon", "DEFAULT_POWER_PER_CORE"): "cpu.power_w_per_thread.codecarbon",
    ("cloud-carbon-footprint", "MIN_WATTS_AVG (AWS)"): "cpu.min_power_w_per_vcpu.ccf_aws",
    ("cloud-carbon-footprint", "MAX_WATTS_AVG (AWS)"): "cpu.max_power_w_per_vcpu.ccf_aws",
    ("cloud-carbon-footprint", "SSDCOEFFICIENT"): "storage.ssd_energy_wh_per_tb_hour.ccf",
    ("cloud-carbon-footprint", "HDDCOEFFICIENT"): "storage.hdd_energy_wh_per_tb_hour.ccf",
    ("cloud-carbon-footprint", "NETWORKING_COEFFICIENT"): "network.energy_kwh_per_gb.ccf",
}
EMBODIED_CONSTANT_KEYS = {
    "commodity rack server base": "embodied.server_base_kg_co2e",
    "DRAM": "embodied.dram_kg_co2e_per_gb",
    "additional CPU": "embodied.cpu_kg_co2e",
    "additional HDD": "embodied.hdd_kg_co2e",
    "additional SSD": "embodied.ssd_kg_co2e",
    "additional GPU card": "embodied.gpu_card_kg_co2e",
    "rack server expected lifespan": "embodied.server_lifespan_years",
    "NVIDIA HGX H100 (8-GPU baseboard) embodied intensity": "embodied.hgx_h100_g_co2e_per_exaflop_fp16",
    "NVIDIA HGX B200 embodied intensity": "embodied.hgx_b200_g_co2e_per_exaflop_fp16",
    "NVIDIA HGX H100 total PCF": "embodied.hgx_h100_total_kg_co2e",
    "A100 per-GPU embodied (HotCarbon'23 estimate)": "embodied.a100_gpu_kg_co2e",
}
CCF_CONSTANT_KEYS = {
    ("azure", "MIN_WATTS_AVG"): "cpu.min_power_w_per_vcpu.ccf_azure",
    ("azure", "MAX_WATTS_AVG"): "cpu.max_power_w_per_vcpu.ccf_azure",
    ("aws", "MEMORY_AVG"): "cpu.memory_gb_per_chip.ccf_aws",
    ("azure", "MEMORY_AVG"): "cpu.memory_gb_per_chip.ccf_azure",
    ("aws", "SERVER_EXPECTED_LIFESPAN"): "embodied.server_lifespan_hours.ccf",
}
EPA_EQUIVALENCE_KEYS = {
    "miles driven by an average gasoline-powered passenger vehicle": ("car_mile_us", "mile driven"),
    "smartphones charged": ("smartphone_charge", "smartphone charged"),
    "urban tree seedlings grown for 10 years": ("tree_seedling_10_years", "urban tree seedling grown 10 years"),
    "acres of U.S. forests in one year": ("us_forest_acre_year", "acre of US forest for one year"),
}
GA_EQUIVALENCE_KEYS = {
    "passengerCar_EU_perkm": ("car_km_eu", "km by an average EU passenger car"),
    "passengerCar_US_perkm": ("car_km_us", "km by an average US passenger car"),
    "train_perkm": ("train_km", "km by train (per passenger)"),
    "flight_economy_perkm": ("flight_economy_km", "km flown in economy (per passenger)"),
    "treeYear": ("tree_year", "tree-year of CO2 sequestration"),
    "tree_month": ("tree_month", "tree-month of CO2 sequestration"),
    "flight_NY-SF": ("flight_nyc_sfo", "economy flight New York - San Francisco (per passenger)"),
    "flight_PAR-LON": ("flight_par_lon", "economy flight Paris - London (per passenger)"),
    "flight_PAR-DUB": ("flight_par_dub", "economy flight Paris - Dublin (per passenger)"),
    "flight_NYC-MEL": ("flight_nyc_mel", "economy flight New York - Melbourne (per passenger)"),
    "streaming_netflix_perhour": ("video_streaming_hour", "hour of video streaming"),
}
GA_EQUIVALENCE_SKIPPED = {
    "memoryPower": "a power figure, not an equivalence (kept in constants.csv)",
    "google_search": "doubtful figure (10 g per search from a 2009 third-party page; Google's own figure is "
    "about 0.2 g)",
}

# --------------------------------------------------------------------------------------
# Build context
# --------------------------------------------------------------------------------------


class Build:
    """Reads raw files (recording their hashes) and collects warnings and dropped-row counts."""

    def __init__(self, raw_dir: Path, *, quiet: bool = False) -> None:
        self.raw_dir = raw_dir
        self.quiet = quiet
        self.inputs: dict[str, str] = {}
        self.warnings: list[str] = []
        self.dropped: dict[str, Counter[str]] = defaultdict(Counter)
        self.merged: Counter[str] = Counter()
        self.datasets_used: set[str] = set()

    # -- reporting --
    def warn(self, message: str) -> None:
        """Record a warning and print it on stderr."""
        self.warnings.append(message)
        if not self.quiet:
            print(f"build_data: warning: {message}", file=sys.stderr)

    def drop(self, table: str, reason: str, detail: str) -> None:
        """Count a dropped row under ``reason`` and warn with ``detail``."""
        self.dropped[table][reason] += 1
        self.warn(f"{table}: dropped {detail}: {reason}")

    # -- reading --
    def _read_bytes(self, rel: str) -> bytes:
        path = self.raw_dir / rel
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise SystemExit(f"build_data: missing raw file {path} (raw data folder: {self.raw_dir})") from None
        self.inputs[rel] = hashlib.sha256(data).hexdigest()
        self.datasets_used.add(rel.split("/", 1)[0])
        return data

    def text(self, rel: str) -> str:
        """The file's text (UTF-8, byte-order mark removed)."""
        return self._read_bytes(rel).decode("utf-8-sig")

    def json(self, rel: str) -> Any:
        """The file parsed as JSON."""
        return json.loads(self.text(rel))

    def rows(self, rel: str, *, skip_lines: int = 0) -> list[list[str]]:
        """The CSV as lists of cells (``skip_lines`` comment lines dropped first)."""
        lines = self.text(rel).splitlines()[skip_lines:]
        return [row for row in csv.reader(lines)]

    def dicts(self, rel: str, *, skip_lines: int = 0) -> list[dict[str, str]]:
        """The CSV as dicts keyed by its (stripped) header."""
        table = self.rows(rel, skip_lines=skip_lines)
        header = [h.strip() for h in table[0]]
        out = []
        for row in table[1:]:
            if not any(cell.strip() for cell in row):
                continue
            out.append({h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)})
        return out


# --------------------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------------------


def fmt(value: float | int | None, digits: int = 3) -> str:
    """A fixed, platform-independent text form of a number ('' for None)."""
    if value is None:
        return ""
    text = f"{round(float(value), digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_float(text: str) -> float | None:
    """A plain decimal number, or None (rejects '', 'NaN', '27.29.5', '000077')."""
    t = text.strip()
    if not re.fullmatch(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE]-?\d+)?", t):
        return None
    if re.fullmatch(r"0\d+", t):  # leading zeros without a decimal point: a mangled fraction
        return None
    return float(t)


def years_in(text: str) -> list[int]:
    """Four-digit years (1990-2099) mentioned in a text."""
    return [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", text)]


def csv_bytes(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 CSV with '\\n' line endings; missing cells are empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8")


def sort_intensity_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows ordered by kind (see KIND_ORDER), then key."""
    return sorted(rows, key=lambda r: (KIND_ORDER.index(r["kind"]), r["key"].casefold()))


# --------------------------------------------------------------------------------------
# Intensity tables
# --------------------------------------------------------------------------------------


class Countries:
    """ISO2 -> (name, continent), built from Ember."""

    def __init__(self) -> None:
        self.continent: dict[str, str] = {}
        self.name: dict[str, str] = {}
        self.by_name: dict[str, str] = {}

    def add(self, iso2: str, name: str, continent: str) -> None:
        self.continent[iso2] = continent
        self.name[iso2] = name
        self.by_name[name.casefold()] = iso2


def build_countries(b: Build, countries: Countries) -> list[dict[str, Any]]:
    """Every country with data in Ember (latest year with a positive intensity), plus the World row."""
    rel = "ember/api_country_overview_yearly.csv"
    by_entity: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in b.dicts(rel):
        by_entity[row["country_or_region"]].append(row)
    out = []
    for entity, rows in sorted(by_entity.items()):
        iso3 = rows[0]["country_code"]
        if not iso3 and entity != "World":
            continue  # Ember aggregates (EU, OECD, continents): not locations
        declared = {int(float(r["latest_year"])) for r in rows if r["latest_year"]}
        usable = []
        for r in rows:
            value = parse_float(r["emissions_intensity_gco2_per_kwh"])
            if value is not None and value > 0:
                usable.append((int(r["year"]), value, r))
            elif value is not None and value <= 0 and int(r["year"]) in declared:
                b.warn(f"ember: {entity} {r['year']}: intensity {value} is not positive; using an earlier year")
        if not usable:
            b.drop("intensity", "no positive intensity in any year", f"Ember {entity}")
            continue
        year, value, row = max(usable, key=lambda t: t[0])
        note = ""
        if declared and max(declared) - year > MAX_FALLBACK_YEARS:
            b.drop(
                "intensity",
                f"last positive intensity ({year}) is more than {MAX_FALLBACK_YEARS} years before Ember's "
                f"latest_year ({max(declared)})",
                f"Ember {entity}",
            )
            continue
        if declared and year not in declared:
            note = f"Ember's latest_year is {max(declared)} but its last intensity value is for {year}"
            b.warn(f"ember: {entity}: {note}")
        if value == 1000.0:
            note = "the source gives exactly 1000 g/kWh (a round estimate)"
        if entity == "World":
            out.append(
                {
                    "key": "WORLD",
                    "kind": "world",
                    "name": "World",
                    "intensity_g_per_kwh": fmt(value),
                    "year": year,
                    "basis": "lifecycle",
                    "source": "Ember yearly (country_overview_yearly)",
                    "licence": CC_BY,
                    "note": "world average of generation",
                }
            )
            continue
        iso2 = ISO3_TO_ISO2.get(iso3)
        if iso2 is None:
            raise SystemExit(f"build_data: no ISO alpha-2 code for Ember's {iso3} ({entity}); add it to ISO3_TO_ISO2")
        countries.add(iso2, entity, row["continent"])
        out.append(
            {
                "key": iso2,
                "kind": "country",
                "name": entity,
                "country": iso2,
                "continent": row["continent"],
                "intensity_g_per_kwh": fmt(value),
                "year": year,
                "basis": "lifecycle",
                "source": "Ember yearly (country_overview_yearly)",
                "licence": CC_BY,
                "note": note,
                "aliases": iso3,
            }
        )
    return out


def build_us_states(b: Build, countries: Countries) -> list[dict[str, Any]]:
    """US states and DC: EPA eGRID2023 state CO2e total output rates, converted to g/kWh."""
    data = b.json("codecarbon/2023/usa_emissions.json")
    meta = data.get("_source", {})
    year = int(meta.get("year", 0)) or None
    unit = data.get("_unit", {}).get("emissions", "")
    if "lb" not in unit.lower() or "mwh" not in unit.lower():
        raise SystemExit(f"build_data: usa_emissions.json unit changed to {unit!r}; update the conversion")
    out = []
    for name, entry in sorted(data.items()):
        if name.startswith("_") or not isinstance(entry, dict):
            continue
        code = str(entry.get("regionCode", ""))
        value = entry.get("emissions")
        if code.lower() == "usa":
            continue  # the national rate; the US country row comes from Ember, eGRID's from the subregion file
        if not isinstance(value, (int, float)) or value <= 0 or not re.fullmatch(r"[A-Z]{2}", code):
            b.drop("intensity", "malformed US state entry", f"usa_emissions.json {name!r}")
            continue
        display = " ".join(w if w in ("of", "and") else w.capitalize() for w in name.split())
        out.append(
            {
                "key": f"US-{code}",
                "kind": "us-state",
                "name": display,
                "country": "US",
                "continent": countries.continent.get("US", ""),
                "intensity_g_per_kwh": fmt(value * LB_PER_MWH_TO_G_PER_KWH),
                "year": year,
                "basis": "direct",
                "source": f"EPA eGRID{year} state {meta.get('field', 'STC2ERTA')} (via CodeCarbon usa_emissions.json)",
                "licence": PUBLIC_DOMAIN,
                "note": f"computed: {fmt(value)} lb/MWh x 0.45359237; CO2e of combustion at generation "
                "(no upstream emissions)",
            }
        )
    return out


def build_egrid(b: Build, countries: Countries) -> list[dict[str, Any]]:
    """eGRID2023 subregions (and the eGRID US average) from the compiled SRC2ERTA table."""
    out = []
    for row in b.dicts("egrid/egrid2023_subregion_co2e_rates.csv"):
        lb = parse_float(row["co2e_total_output_rate_lb_per_mwh"])
        given = parse_float(row["co2e_total_output_rate_g_per_kwh"])
        if lb is None or lb <= 0:
            b.drop("intensity", "malformed eGRID rate", f"eGRID {row['subregion']}")
            continue
        value = lb * LB_PER_MWH_TO_G_PER_KWH
        if given is not None and abs(given - value) > 0.01:
            b.warn(f"egrid: {row['subregion']}: given {given} g/kWh differs from {value:.3f} computed from lb/MWh")
        out.append(
            {
                "key": f"egrid:{row['subregion']}",
                "kind": "egrid",
                "name": row["subregion_name"],
                "country": "US",
                "continent": countries.continent.get("US", ""),
                "intensity_g_per_kwh": fmt(value),
                "year": int(row["data_year"]),
                "basis": "direct",
                "source": "EPA eGRID2023 rev2 subregion SRC2ERTA (compiled table)",
                "licence": PUBLIC_DOMAIN,
                "note": f"computed: {fmt(lb)} lb/MWh x 0.45359237; CO2e of combustion at generation; "
                "not yet checked against EPA's egrid2023_data_rev2.xlsx",
            }
        )
    return out


def build_india_states(b: Build, countries: Countries) -> list[dict[str, Any]]:
    """Indian states and union territories from Ember's India subnational data (latest year)."""
    latest: dict[str, tuple[int, float]] = {}
    for row in b.dicts("ember/api_overview_ind_yearly.csv"):
        state = row["state"]
        if state in INDIA_NOT_STATES:
            continue
        if state not in INDIA_STATES:
            raise SystemExit(f"build_data: Ember India state {state!r} has no ISO 3166-2 code in INDIA_STATES")
        value = parse_float(row["emissions_intensity_gco2_per_kwh"])
        if value is None or value <= 0:
            continue
        year = int(row["year"])
        if state not in latest or year > latest[state][0]:
            latest[state] = (year, value)
    out = []
    for state, (code, aliases) in sorted(INDIA_STATES.items()):
        if state not in latest:
            b.warn(f"ember: no intensity for Indian state {state}")
            continue
        year, value = latest[state]
        out.append(
            {
                "key": code,
                "kind": "in-state",
                "name": state,
                "country": "IN",
                "continent": countries.continent.get("IN", ""),
                "intensity_g_per_kwh": fmt(value),
                "year": year,
                "basis": "lifecycle",
                "source": "Ember yearly (overview_ind_yearly)",
                "licence": CC_BY,
                "aliases": ";".join(aliases),
            }
        )
    return out


def build_china_provinces(b: Build, countries: Countries) -> list[dict[str, Any]]:
    """Chinese provinces: official MEE/NBS 2023 provincial average factors (CO2 only)."""
    data = b.json("codecarbon/2023/china_provincial_emissions.json")
    meta = data.get("metadata", {})
    out = []
    for code, entry in sorted(data["data"].items()):
        value = entry.get("emission_factor")
        if not isinstance(value, (int, float)) or value <= 0 or not re.fullmatch(r"CN-[A-Z]{2}", code):
            b.drop("intensity", "malformed province entry", f"china_provincial_emissions.json {code!r}")
            continue
        if "co2/kwh" not in str(entry.get("unit", "")).lower():
            raise SystemExit(f"build_data: unexpected unit {entry.get('unit')!r} for {code}")
        out.append(
            {
                "key": code,
                "kind": "cn-province",
                "name": entry.get("description", code),
                "country": "CN",
                "continent": countries.continent.get("CN", ""),
                "intensity_g_per_kwh": fmt(value),
                "year": int(entry.get("year") or meta.get("year")),
                "basis": "direct-co2",
                "source": f"China MEE/NBS Announcement {meta.get('announcement', '2025 No. 47')} "
                "(via CodeCarbon china_provincial_emissions.json)",
                "licence": MIT,
                "note": "CO2 only (not CO2e), location-based provincial average including inter-provincial "
                "transfers; official figures",
            }
        )
    return out


def ipcc_factors(b: Build) -> dict[str, dict[str, str]]:
    """compiled-factors/emission_factors_by_source.csv keyed by source_type."""
    return {r["source_type"]: r for r in b.dicts("compiled-factors/emission_factors_by_source.csv")}


def build_canada_provinces(b: Build, countries: Countries) -> list[dict[str, Any]]:
    """Canadian provinces: generation-mix-weighted IPCC AR5 lifecycle medians (derived by wattprint)."""
    mix = b.json("codecarbon/2023/canada_energy_mix.json")
    factors_table = ipcc_factors(b)
    factors: dict[str, float] = {}
    for fuel, row_name in CANADA_FUEL_FACTOR_ROWS.items():
        if row_name is None:
            continue
        value = parse_float(factors_table[row_name]["lifecycle_median_gco2eq_per_kwh"])
        if value is None:
            raise SystemExit(f"build_data: no lifecycle median for {row_name} in emission_factors_by_source.csv")
        factors[fuel] = value
    method = ", ".join(f"{fuel} {fmt(f)}" for fuel, f in factors.items())
    out = []
    for province, shares in sorted(mix.items()):
        if province not in CANADA_PROVINCES:
            raise SystemExit(f"build_data: Canadian province {province!r} has no code in CANADA_PROVINCES")
        code, display = CANADA_PROVINCES[province]
        weighted = 0.0
        covered = 0.0
        for fuel, share in shares.items():
            if fuel == "total":
                continue
            if fuel not in CANADA_FUEL_FACTOR_ROWS:
                raise SystemExit(f"build_data: unknown fuel {fuel!r} in canada_energy_mix.json ({province})")
            if fuel not in factors:
                if share:
                    raise SystemExit(f"build_data: {province}: fuel {fuel!r} has share {share} but no factor")
                continue
            weighted += float(share) * factors[fuel]
            covered += float(share)
        if covered <= 0:
            b.drop("intensity", "empty generation mix", f"canada_energy_mix.json {province!r}")
            continue
        out.append(
            {
                "key": code,
                "kind": "ca-province",
                "name": display,
                "country": "CA",
                "continent": countries.continent.get("CA", ""),
                "intensity_g_per_kwh": fmt(weighted / covered),
                "year": 2023,
                "basis": "lifecycle",
                "source": "derived: CodeCarbon 2023/canada_energy_mix.json x IPCC AR5 lifecycle medians "
                "(compiled-factors/emission_factors_by_source.csv)",
                "licence": MIT,
                "note": f"derived by wattprint: generation-share-weighted lifecycle factors (g/kWh: {method}; "
                "oil is the UK POST 2014 figure, IPCC AR5 has none), shares renormalised to their sum "
                f"{fmt(covered, 2)}%; year is that of CodeCarbon's data folder",
            }
        )
    return out


def build_nordic_zones(b: Build, countries: Countries, country_rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Swedish and Norwegian bidding zones (CodeCarbon, from ENTSO-E generation); FI is the country row."""
    data = b.json("codecarbon/nordic_emissions.json")
    out = []
    for zone, entry in sorted(data["data"].items()):
        value = entry.get("emission_factor")
        if zone in country_rows:
            b.warn(
                f"nordic_emissions.json: {zone} is a whole country; the Ember country row {zone} is used instead "
                f"of CodeCarbon's {value} g/kWh ({entry.get('year')}, described as 'prior value, unchanged')"
            )
            continue
        match = re.fullmatch(r"(SE|NO)(\d)", zone)
        if not match or not isinstance(value, (int, float)) or value <= 0:
            b.drop("intensity", "malformed bidding-zone entry", f"nordic_emissions.json {zone!r}")
            continue
        iso2 = match.group(1)
        notes = [n for n in (entry.get("coverage") and f"coverage {entry['coverage']}", entry.get("note")) if n]
        out.append(
            {
                "key": zone,
                "kind": "nordic-zone",
                "name": entry.get("description", zone),
                "country": iso2,
                "continent": countries.continent.get(iso2, ""),
                "intensity_g_per_kwh": fmt(value),
                "year": int(entry["year"]),
                "basis": "lifecycle",
                "source": "CodeCarbon nordic_emissions.json (ENTSO-E A75 generation x CodeCarbon per-source factors)",
                "licence": MIT,
                "note": "; ".join(["production-based, not consumption-based", *notes]),
                "aliases": f"{iso2}-{zone}",
            }
        )
    return out


def build_electricitymaps(b: Build, countries: Countries) -> list[dict[str, Any]]:
    """Electricity Maps yearly zones (ODbL): latest year per zone, with renewable and carbon-free shares."""
    files = sorted(
        p.name
        for p in (b.raw_dir / "electricitymaps-yearly").glob("yearly_*.json")
        if re.fullmatch(r"yearly_\d{4}\.json", p.name)
    )
    if not files:
        raise SystemExit("build_data: no electricitymaps-yearly/yearly_YYYY.json files")
    per_year = {int(name[7:11]): b.json(f"electricitymaps-yearly/{name}") for name in files}
    zones = sorted({z for data in per_year.values() for z in data})
    out = []
    for zone in zones:
        history = []
        for year in sorted(per_year):
            entry = per_year[year].get(zone)
            if entry is None:
                continue
            value = entry.get("carbonIntensity", {}).get("value")
            if isinstance(value, (int, float)) and value > 0:
                history.append((year, float(value), entry))
            else:
                b.warn(f"electricitymaps: {zone} {year}: no usable intensity ({value!r})")
        if not history:
            b.drop("intensity_electricitymaps", "no usable intensity", f"Electricity Maps zone {zone}")
            continue
        year, value, entry = history[-1]
        unit = entry.get("carbonIntensity", {}).get("unit", "")
        if unit != "gCO2eq/kWh":
            raise SystemExit(f"build_data: Electricity Maps {zone}: unexpected unit {unit!r}")
        info = entry.get("zone", {})
        iso2 = zone.split("-")[0]
        if not re.fullmatch(r"[A-Z]{2}", iso2):
            raise SystemExit(f"build_data: Electricity Maps zone {zone!r} does not start with an ISO alpha-2 code")
        name = info.get("displayName") or info.get("zoneName") or zone
        if info.get("countryName") and info.get("countryName") not in name:
            name = f"{name} ({info['countryName']})"
        notes = ["consumption-based (flow-traced) yearly average"]
        if len(history) > 1 and len({v for _, v, _ in history}) == 1:
            notes.append(f"the same value in every year {history[0][0]}-{year} (likely a modelled default)")

        def share(field: str, entry: dict[str, Any] = entry) -> str:
            v = entry.get(field, {}).get("value")
            return fmt(v / 100.0, 4) if isinstance(v, (int, float)) else ""

        out.append(
            {
                "key": f"em:{zone}",
                "kind": "em-zone",
                "name": name,
                "country": iso2,
                "continent": countries.continent.get(iso2, ""),
                "intensity_g_per_kwh": fmt(value),
                "year": year,
                "basis": "lifecycle",
                "source": f"Electricity Maps yearly (via co2.js yearly_{year}.json)",
                "licence": ODBL,
                "note": "; ".join(notes),
                "cfe_fraction": share("carbonFreeEnergy"),
                "renewable_fraction": share("renewableEnergy"),
            }
        )
    return out


# -- cloud regions --


def zone_country(zone: str, zones: dict[str, dict[str, Any]]) -> str:
    """The ISO2 country of a zone key ('' for none)."""
    if not zone:
        return ""
    row = zones.get(zone)
    if row is None:
        raise SystemExit(f"build_data: cloud region zone {zone!r} is not a key of intensity.csv")
    return row.get("country") or ""


def cloud_row(
    provider: str,
    region: str,
    display: str,
    zone: str,
    zones: dict[str, dict[str, Any]],
    countries: Countries,
    **fields: Any,
) -> dict[str, Any]:
    """A cloud-region intensity row with the location columns filled in."""
    iso2 = zone_country(zone, zones)
    row = {
        "key": f"{provider}:{region}",
        "kind": "cloud-region",
        "name": f"{PROVIDER_NAMES[provider]} {region}" + (f": {display}" if display and display != region else ""),
        "country": iso2,
        "continent": countries.continent.get(iso2, ""),
        "provider": provider,
        "region": region,
        "zone": zone,
    }
    row.update(fields)
    return row


def zone_fallback_fields(zone: str, zones: dict[str, dict[str, Any]], why: str) -> dict[str, Any]:
    """Intensity fields copied from the zone's own row, for a region whose provider figure is unusable."""
    z = zones[zone]
    return {
        "intensity_g_per_kwh": z["intensity_g_per_kwh"],
        "year": z.get("year", ""),
        "basis": z["basis"],
        "source": z["source"],
        "licence": z["licence"],
        "grid_factor": f"zone:{zone}",
        "note": why,
    }


def check_country(b: Build, what: str, ours: str, theirs: str, source: str) -> None:
    """Warn when another dataset places a region in a different country (HK under CN is accepted)."""
    if not theirs or not ours or ours == theirs or (ours == "HK" and theirs == "CN"):
        return
    b.warn(f"{what}: wattprint places it in {ours} but {source} says {theirs}")


def external_locations(b: Build, countries: Countries) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(provider, region) -> [(country ISO2, source)] from Green Algorithms, ML CO2 Impact and CodeCarbon."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for row in b.dicts("green-algorithms/cloudProviders_datacenters.csv", skip_lines=1):
        location = row["location"]
        if not location:
            continue
        iso2 = "HK" if location == "CN-HK" else location.split("-")[0]
        region = re.sub(r"\s*\(.*\)$", "", row["Name"]).replace(" ", "").lower()
        found[(row["provider"], region)].append((iso2, "Green Algorithms cloudProviders_datacenters.csv"))
    extra_names = {"usa": "US", "united kingdom": "GB", "south korea": "KR", "china": "CN"}
    for row in b.dicts("mlco2-impact/impact.csv"):
        iso2 = extra_names.get(row["country"].casefold()) or countries.by_name.get(row["country"].casefold(), "")
        if row["region"]:
            found[(row["provider"], row["region"].lower())].append((iso2, "ML CO2 Impact impact.csv"))
    for row in b.dicts("codecarbon/impact.csv"):
        iso2 = ISO3_TO_ISO2.get(row["countryIsoCode"], "")
        found[(row["provider"], row["region"].lower())].append((iso2, "CodeCarbon impact.csv"))
    return found


GCP_OPERATIONAL_SINCE = 2021
"""Google's region-carbon-info headed its column "Lifecycle grid carbon intensity" for 2019-2020; since its 2021
data the column is "Grid carbon intensity", defined as average operational gross emissions per unit of electricity."""
GCP_BASIS = "direct"
"""Operational emissions are those of generation itself (combustion): the ``direct`` basis of the other tables."""


def build_gcp(b: Build, zones: dict[str, dict[str, Any]], countries: Countries, located: Any) -> list[dict[str, Any]]:
    """Google Cloud regions from Google's own yearly file (latest year), with the carbon-free-energy share."""
    files = sorted(
        p.name for p in (b.raw_dir / "gcp-region-carbon-info").glob("*.csv") if re.fullmatch(r"\d{4}\.csv", p.name)
    )
    year = int(files[-1][:4])
    rows = b.dicts(f"gcp-region-carbon-info/{files[-1]}")
    out = []
    for row in rows:
        region = row["Google Cloud Region"]
        intensity_col = next(c for c in row if "carbon intensity" in c.lower())
        value = parse_float(row[intensity_col])
        cfe = parse_float(row.get("Google CFE", ""))
        if value is None or value <= 0:
            b.drop("intensity", "malformed grid intensity", f"Google {year} {region} ({row[intensity_col]!r})")
            continue
        if region not in GCP_REGION_ZONES:
            raise SystemExit(f"build_data: Google Cloud region {region!r} has no zone in GCP_REGION_ZONES")
        zone = GCP_REGION_ZONES[region]
        for iso2, source in located.get(("gcp", region), []):
            check_country(b, f"gcp:{region}", zone_country(zone, zones), iso2, source)
        out.append(
            cloud_row(
                "gcp",
                region,
                row["Location"],
                zone,
                zones,
                countries,
                intensity_g_per_kwh=fmt(value),
                year=year,
                basis=GCP_BASIS if year >= GCP_OPERATIONAL_SINCE else "lifecycle",
                source=f"Google Cloud region-carbon-info {year}.csv",
                licence=APACHE,
                grid_factor="google:grid-carbon-intensity",
                cfe_fraction=fmt(cfe, 4) if cfe is not None else "",
                note="location-based grid average published by Google: average operational gross emissions "
                "per kWh (generation only, no upstream or lifecycle emissions; Google's files say so since their "
                f"{GCP_OPERATIONAL_SINCE} data); cfe_fraction is Google's hourly carbon-free energy share including "
                "its purchases",
            )
        )
    return out


def read_ccf_csv(b: Build, provider: str) -> tuple[dict[str, tuple[float, str, str]], dict[str, str]]:
    """From the older ccf-coefficients CSV: (region id -> (g/kWh, display name, upstream source) for the
    usable rows, region id -> display name for every row including the malformed ones)."""
    rel = f"cloud-carbon-footprint/grid-emissions-factors-{provider}.csv"
    table = b.rows(rel)
    header = [h.strip() for h in table[0]]
    value_col = header.index("CO2e (metric ton/kWh)")
    out = {}
    listed = {}
    for row in table[1:]:
        if not row:
            continue
        display = row[0].strip()
        region = display.replace(" ", "").lower()
        listed[region] = display
        raw = row[value_col].strip() if value_col < len(row) else ""
        extra = [c for c in row[len(header) :] if c.strip()] if len(row) > len(header) else []
        value = parse_float(raw)
        if value is None or not 1e-6 <= value <= 2e-3 or extra:
            b.drop(
                "intensity",
                "malformed CCF emission factor",
                f"{rel} {display!r} value {raw!r}"
                + (f" (extra cells {extra})" if extra else "")
                + " (not a metric t/kWh figure)",
            )
            continue
        out[region] = (value * 1e6, display, row[-1].strip() if len(row) == len(header) else "")
    return out, listed


def build_ccf_provider(
    b: Build,
    provider: str,
    table: dict[str, str],
    zones: dict[str, dict[str, Any]],
    countries: Countries,
    located: Any,
    display_names: dict[str, str],
) -> list[dict[str, Any]]:
    """AWS or Azure regions with Cloud Carbon Footprint's grid factors."""
    ts: dict[str, tuple[float, str]] = {}
    for row in b.dicts("cloud-carbon-footprint/ccf_cloud_constants_extracted.csv"):
        if row["provider"] != provider or row["quantity"] != "grid_ef_location" or row["region"] == "Unknown":
            continue
        value = parse_float(row["value"])
        if value is None or value <= 0 or row["unit"] != "gCO2e/kWh":
            b.drop("intensity", "malformed CCF constant", f"CCF {provider} {row['region']} {row['value']!r}")
            continue
        ts[row["region"].lower()] = (value, row["note"])
    older, listed = read_ccf_csv(b, provider)
    out = []
    for region in sorted(set(ts) | set(listed)):
        if region not in table:
            raise SystemExit(f"build_data: {provider} region {region!r} has no zone in the region map")
        zone = table[region]
        for iso2, source in located.get((provider, region), []):
            check_country(b, f"{provider}:{region}", zone_country(zone, zones), iso2, source)
        display = display_names.get(region) or listed.get(region, "")
        if region in ts:
            value, note = ts[region]
            nerc = re.fullmatch(r"NERC (\w+)", note or "")
            fields = {
                "intensity_g_per_kwh": fmt(value),
                "year": "",
                "basis": "unspecified",
                "source": f"Cloud Carbon Footprint ({provider.capitalize()}FootprintEstimationConstants.ts, "
                "code of 2024-03-25; data year not stated)",
                "licence": APACHE,
                "grid_factor": f"ccf:NERC-{nerc.group(1)}" if nerc else ("ccf:country" if zone else "ccf:geography"),
                "note": "CCF does not state the data year of its factors (2024-03-25 is the date of its code)"
                + ("; US NERC region average" if nerc else ""),
            }
        elif region in older:
            value, _display, upstream = older[region]
            fields = {
                "intensity_g_per_kwh": fmt(value),
                "year": "",
                "basis": "unspecified",
                "source": f"Cloud Carbon Footprint (ccf-coefficients grid-emissions-factors-{provider}.csv; "
                "data year not stated)",
                "licence": APACHE,
                "grid_factor": f"ccf:country ({upstream})" if upstream else "ccf:country",
                "note": "computed: metric t/kWh x 1e6; CCF does not state the data year of its factors",
            }
        else:
            if not zone:
                b.drop("intensity", "no usable CCF factor and no zone", f"{provider}:{region}")
                continue
            fields = zone_fallback_fields(
                zone, zones, f"CCF's factor for this region is malformed; uses the grid factor of zone {zone}"
            )
        out.append(cloud_row(provider, region, display, zone, zones, countries, **fields))
    return out


def build_other_providers(b: Build, zones: dict[str, dict[str, Any]], countries: Countries) -> list[dict[str, Any]]:
    """Providers found only in ML CO2 Impact: located there, priced with their zone's current factor."""
    out = []
    for row in b.dicts("mlco2-impact/impact.csv"):
        provider = row["provider"]
        if provider in ("gcp", "aws", "azure"):
            continue
        region = (row["region"] or re.sub(r"[^a-z0-9]+", "-", row["regionName"].lower()).strip("-")).lower()
        if (provider, region) not in OTHER_REGION_ZONES:
            raise SystemExit(f"build_data: {provider}:{region} has no zone in OTHER_REGION_ZONES")
        if provider not in PROVIDER_NAMES:
            raise SystemExit(f"build_data: no display name for provider {provider!r}")
        zone = OTHER_REGION_ZONES[(provider, region)]
        place = ", ".join(p for p in (row["city"], row["state"], row["country"]) if p)
        why = (
            f"located by ML CO2 Impact ({place}), which lists {row['impact']} g/kWh "
            f"({row['source'] or 'no source'}{'; ' + row['comment'] if row['comment'] else ''}); "
            f"wattprint uses the current grid factor of zone {zone}"
        )
        if provider == "coreweave" and region == "las1":
            why += "; ML CO2 Impact's state and city cells are swapped for this row"
        fields = zone_fallback_fields(zone, zones, why)
        aliases = ";".join(OTHER_REGION_ALIASES.get((provider, region), ()))
        out.append(cloud_row(provider, region, row["regionName"], zone, zones, countries, aliases=aliases, **fields))
    return out


def build_intensity_tables(b: Build) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(intensity.csv rows, intensity_electricitymaps.csv rows)."""
    countries = Countries()
    country_rows = build_countries(b, countries)
    by_key = {r["key"]: r for r in country_rows}
    rows = list(country_rows)
    rows += build_us_states(b, countries)
    rows += build_egrid(b, countries)
    rows += build_india_states(b, countries)
    rows += build_china_provinces(b, countries)
    rows += build_canada_provinces(b, countries)
    rows += build_nordic_zones(b, countries, by_key)
    zones = {r["key"]: r for r in rows}
    located = external_locations(b, countries)
    azure_names = {
        re.sub(r"\s*\(.*\)$", "", r["Name"]).replace(" ", "").lower(): re.sub(r"\s*\(.*\)$", "", r["Name"])
        for r in b.dicts("green-algorithms/cloudProviders_datacenters.csv", skip_lines=1)
        if r["provider"] == "azure"
    }
    mlco2_names = {(r["provider"], r["region"].lower()): r["regionName"] for r in b.dicts("mlco2-impact/impact.csv")}
    aws_names = {reg: name for (prov, reg), name in mlco2_names.items() if prov == "aws" and name}
    azure_names.update({reg: name for (prov, reg), name in mlco2_names.items() if prov == "azure" and name})
    rows += build_gcp(b, zones, countries, located)
    rows += build_ccf_provider(b, "aws", AWS_REGION_ZONES, zones, countries, located, aws_names)
    rows += build_ccf_provider(b, "azure", AZURE_REGION_ZONES, zones, countries, located, azure_names)
    rows += build_other_providers(b, zones, countries)
    em_rows = build_electricitymaps(b, countries)
    check_keys(rows + em_rows)
    return sort_intensity_rows(rows), sort_intensity_rows(em_rows)


def check_keys(rows: list[dict[str, Any]]) -> None:
    """Keys and aliases must be unique under the loader's key normalisation."""
    seen: dict[str, str] = {}
    for row in rows:
        for alias in [row["key"], *[a for a in str(row.get("aliases") or "").split(";") if a]]:
            canonical = names.canonical_location_key(alias)
            if canonical in seen:
                raise SystemExit(f"build_data: location key {alias!r} clashes with {seen[canonical]!r}")
            seen[canonical] = row["key"]


# --------------------------------------------------------------------------------------
# Hardware tables
# --------------------------------------------------------------------------------------


def build_cpu_table(b: Build) -> list[dict[str, Any]]:
    """CodeCarbon's CPU TDP table merged with Green Algorithms' (which adds core counts)."""
    entries: dict[str, dict[str, Any]] = {}
    conflicts: dict[str, list[tuple[str, float]]] = defaultdict(list)
    merged = 0
    rel = "codecarbon/cpu_power.csv"
    table = b.rows(rel)
    if [h.strip() for h in table[0]] != ["Name", "TDP"]:
        raise SystemExit(f"build_data: unexpected header in {rel}: {table[0]}")
    for row in table[1:]:
        if len(row) != 2:
            b.drop("cpu_tdp", "wrong number of cells", f"{rel} {row!r}")
            continue
        name, raw = row[0].strip(), row[1].strip()
        tdp = parse_float(raw)
        if not name or tdp is None or not 0 < tdp <= 1000:
            b.drop("cpu_tdp", "malformed TDP", f"{rel} {name!r} TDP {raw!r}")
            continue
        key = names.normalize_cpu_name(name)
        if names.is_bare_model_number(key):
            b.dropped["cpu_tdp"]["bare model number without family (ambiguous)"] += 1
            continue
        if key in entries:
            conflicts[key].append((name, tdp))
            if entries[key]["tdp_w"] == tdp:
                merged += 1
            continue
        entries[key] = {
            "key": key,
            "name": " ".join(name.split()),
            "tdp_w": tdp,
            "cores": None,
            "sources": ["codecarbon"],
            "licences": [MIT],
            "notes": [],
        }
        conflicts[key].append((name, tdp))
    bare = b.dropped["cpu_tdp"]["bare model number without family (ambiguous)"]
    if bare:
        b.warn(
            f"cpu_tdp: dropped {bare} rows of {rel} whose name is only a model number (e.g. '6132'): "
            "without a family name they could match another vendor's part"
        )
    for key, seen in sorted(conflicts.items()):
        if len({tdp for _, tdp in seen}) > 1:
            del entries[key]
            for name, tdp in seen:
                b.drop("cpu_tdp", "contradictory duplicate", f"{rel} {name!r} ({fmt(tdp)} W; key {key!r})")
    ga_rel = "green-algorithms/TDP_cpu.csv"
    for ga_row in b.dicts(ga_rel, skip_lines=1):
        name = " ".join(ga_row["model"].split())
        tdp = parse_float(ga_row["TDP"])
        cores_f = parse_float(ga_row["n_cores"])
        key = names.normalize_cpu_name(name)
        if not name or name == "Any" or tdp is None:
            b.drop("cpu_tdp", "placeholder row without TDP", f"{ga_rel} {name!r}")
            continue
        if names.is_bare_model_number(key):
            b.drop("cpu_tdp", "bare model number without family (ambiguous)", f"{ga_rel} {name!r}")
            continue
        cores = int(cores_f) if cores_f else None
        if key in entries:
            entry = entries[key]
            if entry["tdp_w"] != tdp:
                b.warn(
                    f"cpu_tdp: {name}: Green Algorithms says {fmt(tdp)} W, CodeCarbon {fmt(entry['tdp_w'])} W; "
                    "keeping CodeCarbon's"
                )
                entry["notes"].append(f"Green Algorithms gives {fmt(tdp)} W")
            entry["cores"] = cores
            entry["sources"].append("green-algorithms (cores)")
            entry["licences"].append(CC_BY)
        else:
            entries[key] = {
                "key": key,
                "name": name,
                "tdp_w": tdp,
                "cores": cores,
                "sources": ["green-algorithms"],
                "licences": [CC_BY],
                "notes": [],
            }
    b.merged["cpu_tdp: rows whose normalised name repeats another row with the same TDP"] += merged
    return [
        {
            "key": e["key"],
            "name": e["name"],
            "tdp_w": fmt(e["tdp_w"], 2),
            "cores": e["cores"] if e["cores"] is not None else "",
            "source": "; ".join(e["sources"]),
            "licence": "; ".join(dict.fromkeys(e["licences"])),
            "note": "; ".join(e["notes"]),
        }
        for e in sorted(entries.values(), key=lambda e: e["key"])
    ]


def build_gpu_table(b: Build) -> list[dict[str, Any]]:
    """ML CO2 Impact's GPU table merged with Green Algorithms' (ML CO2 Impact preferred on conflicts)."""
    entries: dict[str, dict[str, Any]] = {}
    candidates: list[tuple[str, str, str, float, int | None, str]] = []  # dataset, rel, name, tdp, memory, kind
    rel = "mlco2-impact/gpus.csv"
    for row in b.dicts(rel):
        name = row["name"]
        if row["type"] not in ("gpu", "tpu"):
            b.dropped["gpu_tdp"]["not a GPU or TPU (CPU rows of gpus.csv)"] += 1
            continue
        mem = parse_float(row["memory"])
        candidates.append(
            ("mlco2-impact", rel, name, parse_float(row["tdp_watts"]) or -1, int(mem) if mem else None, row["type"])
        )
    skipped_cpu = b.dropped["gpu_tdp"]["not a GPU or TPU (CPU rows of gpus.csv)"]
    if skipped_cpu:
        b.warn(f"gpu_tdp: skipped {skipped_cpu} CPU rows of {rel} (CPU figures come from cpu_tdp.csv)")
    ga_rel = "green-algorithms/TDP_gpu.csv"
    for row in b.dicts(ga_rel, skip_lines=1):
        mem = parse_float(row.get("memory", ""))
        kind = "tpu" if names.normalize_gpu_name(row["model"]).base[:1] == ("tpu",) else "gpu"
        candidates.append(
            ("green-algorithms", ga_rel, row["model"], parse_float(row["TDP"]) or -1, int(mem) if mem else None, kind)
        )
    for dataset, source_rel, raw_name, tdp, column_memory, kind in candidates:
        name = " ".join(raw_name.split())
        where = f"{source_rel} {name!r}"
        if (dataset, name) in GPU_DROPPED_ROWS:
            b.drop("gpu_tdp", GPU_DROPPED_ROWS[(dataset, name)], where)
            continue
        if name == "Any" or not 0 < tdp <= 2000:
            b.drop("gpu_tdp", "placeholder row or malformed TDP", where)
            continue
        parsed = names.normalize_gpu_name(name)
        if parsed.memory_ambiguous:
            b.drop("gpu_tdp", "name lists several memory sizes (one TDP for different parts)", where)
            continue
        notes = []
        if (dataset, name) in GPU_TDP_CORRECTIONS:
            old, new, why = GPU_TDP_CORRECTIONS[(dataset, name)]
            if tdp != old:
                raise SystemExit(f"build_data: correction for {where} expects {old} W, the data says {tdp} W")
            b.warn(f"gpu_tdp: {where}: {why}")
            tdp = new
            notes.append(why)
        memory = parsed.memory_gb if parsed.memory_gb is not None else column_memory
        if parsed.memory_gb is not None and column_memory is not None and parsed.memory_gb != column_memory:
            b.warn(
                f"gpu_tdp: {where}: memory column says {column_memory} GB, the name {parsed.memory_gb} GB; "
                "using the name"
            )
            notes.append(f"memory column says {column_memory} GB")
        if dataset == "mlco2-impact" and kind == "tpu":
            notes.append("average measured consumption, not TDP (Patterson et al. 2021)")
        licence = MIT if dataset == "mlco2-impact" else CC_BY
        source = f"{dataset} {source_rel.rsplit('/', 1)[1]}"
        key = parsed.key
        if key in entries:
            entry = entries[key]
            if entry["tdp_w"] != tdp:
                b.warn(
                    f"gpu_tdp: {name} ({dataset}) says {fmt(tdp)} W, {entry['sources'][0]} says "
                    f"{fmt(entry['tdp_w'])} W; keeping the first"
                )
                entry["notes"].append(f"{dataset} gives {fmt(tdp)} W")
                continue
            entry["sources"].append(source)
            entry["licences"].append(licence)
            if entry["memory_gb"] is None:
                entry["memory_gb"] = memory
            entry["notes"].extend(notes)
            continue
        entries[key] = {
            "key": key,
            "name": name,
            "kind": kind,
            "tdp_w": tdp,
            "memory_gb": memory,
            "form": parsed.form or "",
            "sources": [source],
            "licences": [licence],
            "notes": notes,
        }
    return [
        {
            "key": e["key"],
            "name": e["name"],
            "kind": e["kind"],
            "tdp_w": fmt(e["tdp_w"], 2),
            "memory_gb": e["memory_gb"] if e["memory_gb"] is not None else "",
            "form": e["form"],
            "source": "; ".join(e["sources"]),
            "licence": "; ".join(dict.fromkeys(e["licences"])),
            "note": "; ".join(dict.fromkeys(e["notes"])),
        }
        for e in sorted(entries.values(), key=lambda e: e["key"])
    ]


# --------------------------------------------------------------------------------------
# Factors: PUE/WUE, equivalences, constants
# --------------------------------------------------------------------------------------

PUE_PROVIDER_NAMES = {"google": "gcp", "industry": "unknown", "unknown": "unknown", "ovhcloud": "ovh"}
CONFIDENCE_RANK = {"high": 2, "medium": 1, "low": 0}


UNSETTLED = re.compile(r"\b(?:verify|verification|unverified|todo|fixme|tbd)\b", re.IGNORECASE)
"""Words by which a compiled row says its figure is still to be checked: such a row is not shipped (a user must
never read a to-do), it is counted under ``dropped`` in manifest.json instead."""


def unsettled(b: Build, table: str, what: str, *texts: str) -> bool:
    """True (and the row counted as dropped) when any of ``texts`` says the figure still needs checking."""
    for text in texts:
        found = UNSETTLED.search(text or "")
        if found:
            b.drop(table, "figure not settled in the compiled data", f"{what} ({text.strip()!r})")
            return True
    return False


def licence_of_source(source: str) -> str:
    """Licence of a compiled row, from the dataset its source names."""
    s = source.lower()
    if "cloud-carbon-footprint" in s or "ccf" in s:
        return APACHE
    if "green-algorithms" in s or "green algorithms" in s or "greenalgorithms" in s:
        return CC_BY
    if "codecarbon" in s:
        return MIT
    return FACTS


def build_pue_wue(b: Build) -> list[dict[str, Any]]:
    """Provider PUE and WUE figures by year, each provider's default marked (rule in docs/data.md)."""
    rows: list[dict[str, Any]] = []
    for row in b.dicts("compiled-factors/provider_pue_wue.csv"):
        value = parse_float(row["value"])
        if value is None or value <= 0:
            b.drop(
                "pue_wue",
                "value is not a number",
                f"provider_pue_wue.csv {row['provider']} {row['metric']} {row['value']!r}",
            )
            continue
        ys = years_in(row["year"])
        confidence = row["confidence"]
        if unsettled(b, "pue_wue", f"provider_pue_wue.csv {row['provider']} {row['metric']} {row['year']}",
                     row["source"], confidence, row["scope"]):
            continue
        rows.append(
            {
                "provider": PUE_PROVIDER_NAMES.get(row["provider"].lower(), row["provider"].lower()),
                "metric": row["metric"].upper(),
                "region": "",
                "value": value,
                "unit": row["unit"],
                "period": row["year"],
                "year": max(ys) if ys else None,
                "scope": row["scope"],
                "confidence": confidence,
                "source": row["source"],
                "licence": licence_of_source(row["source"]),
                "note": "",
            }
        )
    for row in b.dicts("green-algorithms/defaults_PUE.csv", skip_lines=1):
        value = parse_float(row["PUE"])
        if value is None:
            b.drop("pue_wue", "value is not a number", f"defaults_PUE.csv {row['provider']!r}")
            continue
        ys = years_in(row["source"])
        provider = PUE_PROVIDER_NAMES.get(row["provider"].lower(), row["provider"].lower())
        rows.append(
            {
                "provider": provider,
                "metric": "PUE",
                "region": "",
                "value": value,
                "unit": "ratio",
                "period": str(ys[0]) if ys else "",
                "year": ys[0] if ys else None,
                "scope": "unknown or on-premises data centre (global average)"
                if provider == "unknown"
                else "provider default",
                "confidence": "medium (Green Algorithms default)",
                "source": f"Green Algorithms defaults_PUE.csv (citing {row['source'].split()[-1]})",
                "licence": CC_BY,
                "note": "",
            }
        )
    for row in b.dicts("cloud-carbon-footprint/ccf_cloud_constants_extracted.csv"):
        if row["quantity"] != "PUE_TRAILING_TWELVE_MONTH":
            continue
        value = parse_float(row["value"])
        if value is None:
            b.drop("pue_wue", "value is not a number", f"CCF PUE {row['region']!r}")
            continue
        rows.append(
            {
                "provider": row["provider"],
                "metric": "PUE",
                "region": row["region"],
                "value": value,
                "unit": "ratio",
                "period": "trailing twelve months",
                "year": None,
                "scope": "region (trailing twelve months, as used by CCF)",
                "confidence": "medium",
                "source": "Cloud Carbon Footprint GcpFootprintEstimationConstants.ts (code of 2024-03-25; "
                "period's year not stated)",
                "licence": APACHE,
                "note": "CCF does not state the period's year",
            }
        )
    # One default per (provider, metric, region): the latest dated figure that is not low-confidence;
    # ties go to the higher confidence. Only low-confidence figures: the latest of them, flagged.
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["provider"], r["metric"], r["region"])].append(r)
    for group in groups.values():

        def rank(r: dict[str, Any]) -> tuple[int, int, int]:
            conf = CONFIDENCE_RANK.get(r["confidence"].split()[0].lower(), 0)
            return (1 if conf > 0 else 0, r["year"] or 0, conf)

        best = max(group, key=rank)
        best["is_default"] = 1
        if rank(best)[0] == 0:
            best["note"] = "; ".join(filter(None, [best["note"], "default despite low confidence (no better figure)"]))
    out = []
    for r in sorted(
        rows, key=lambda r: (r["provider"], r["metric"], r["region"], -(r["year"] or 0), r["value"], r["source"])
    ):
        out.append({**r, "value": fmt(r["value"], 4), "year": r["year"] or "", "is_default": r.get("is_default", 0)})
    return out


def build_equivalences(b: Build) -> list[dict[str, Any]]:
    """EPA equivalency factors (with vintage and verification status) and Green Algorithms' reference values."""
    out = []
    for row in b.dicts("compiled-factors/epa_ghg_equivalencies.csv"):
        label = row["equivalency"]
        if "Green Algorithms" in label:
            continue  # taken from Green Algorithms' own referenceValues.csv below
        if label not in EPA_EQUIVALENCE_KEYS:
            b.warn(f"equivalences: no key for EPA row {label!r}; skipped")
            b.dropped["equivalences"]["no key assigned"] += 1
            continue
        value = parse_float(row["g_co2e_per_unit"])
        if value is None:
            b.drop("equivalences", "value is not a number", f"EPA {label!r}")
            continue
        if unsettled(b, "equivalences", f"EPA {label!r}", row["vintage"], row["status"]):
            continue
        key, unit = EPA_EQUIVALENCE_KEYS[label]
        out.append(
            {
                "key": key,
                "description": label,
                "g_co2e_per_unit": fmt(value, 4),
                "unit": unit,
                "vintage": row["vintage"],
                "status": row["status"],
                "source": f"US EPA Greenhouse Gas Equivalencies Calculator ({row['source']})",
                "licence": PUBLIC_DOMAIN,
            }
        )
    for row in b.dicts("green-algorithms/referenceValues.csv", skip_lines=1):
        variable = row["variable"]
        if variable in GA_EQUIVALENCE_SKIPPED:
            b.warn(f"equivalences: Green Algorithms {variable} skipped: {GA_EQUIVALENCE_SKIPPED[variable]}")
            b.dropped["equivalences"][GA_EQUIVALENCE_SKIPPED[variable].split(" (")[0]] += 1
            continue
        if variable not in GA_EQUIVALENCE_KEYS:
            b.warn(f"equivalences: no key for Green Algorithms {variable!r}; skipped")
            b.dropped["equivalences"]["no key assigned"] += 1
            continue
        value = parse_float(row["value"])
        if value is None:
            b.drop("equivalences", "value is not a number", f"Green Algorithms {variable!r}")
            continue
        key, unit = GA_EQUIVALENCE_KEYS[variable]
        ys = years_in(row["source"])
        out.append(
            {
                "key": key,
                "description": f"{variable} (Green Algorithms reference value)",
                "g_co2e_per_unit": fmt(value, 4),
                "unit": unit,
                "vintage": "Green Algorithms data v3.0" + (f"; source year {max(ys)}" if ys else ""),
                "status": "as published by Green Algorithms",
                "source": f"Green Algorithms referenceValues.csv ({row['source']})",
                "licence": CC_BY,
            }
        )
    return sorted(out, key=lambda r: r["key"])


def build_constants(b: Build) -> list[dict[str, Any]]:
    """Hardware power defaults, embodied reference values, CCF coefficients and per-fuel factors."""
    out: list[dict[str, Any]] = []
    for row in b.dicts("compiled-factors/hardware_power_defaults.csv"):
        key = HARDWARE_CONSTANT_KEYS.get((row["tool"], row["parameter"]))
        if key is None:
            b.warn(f"constants: no key for hardware default {row['tool']}/{row['parameter']}; skipped")
            b.dropped["constants"]["no key assigned"] += 1
            continue
        value = parse_float(row["value"])
        if value is None:
            b.drop("constants", "value is not a number", f"{row['tool']}/{row['parameter']} {row['value']!r}")
            continue
        out.append(
            {
                "key": key,
                "value": fmt(value, 6),
                "unit": row["unit"],
                "description": row["notes"] or row["parameter"],
                "source": row["source"],
                "year": "",
                "licence": licence_of_source(row["source"] + " " + row["tool"]),
                "note": "",
            }
        )
    for row in b.dicts("compiled-factors/embodied_reference_values.csv"):
        item = row["item"]
        key = next((k for prefix, k in EMBODIED_CONSTANT_KEYS.items() if item.startswith(prefix)), None)
        if key is None:
            b.warn(f"constants: no key for embodied value {item!r}; skipped")
            b.dropped["constants"]["no key assigned"] += 1
            continue
        value = parse_float(row["value"])
        if value is None:
            b.drop("constants", "value is not a number", f"embodied {item!r} = {row['value']!r} ({row['notes']})")
            continue
        ys = years_in(row["notes"] + " " + row["source"])
        licence = row["license"] if row["license"] in (APACHE, MIT, CC_BY) else FACTS
        out.append(
            {
                "key": key,
                "value": fmt(value, 6),
                "unit": row["unit"],
                "description": item,
                "source": row["source"],
                "year": max(ys) if ys else "",
                "licence": licence,
                "note": row["notes"],
            }
        )
    for row in b.dicts("cloud-carbon-footprint/ccf_cloud_constants_extracted.csv"):
        key = CCF_CONSTANT_KEYS.get((row["provider"], row["quantity"]))
        if key is None:
            continue
        value = parse_float(row["value"])
        if value is None:
            b.drop("constants", "value is not a number", f"CCF {row['provider']} {row['quantity']}")
            continue
        out.append(
            {
                "key": key,
                "value": fmt(value, 6),
                "unit": row["unit"],
                "description": row["quantity"],
                "source": f"Cloud Carbon Footprint {row['provider'].capitalize()}FootprintEstimationConstants.ts "
                "(code of 2024-03-25)",
                "year": "",
                "licence": APACHE,
                "note": "",
            }
        )
    for fuel, row in sorted(ipcc_factors(b).items()):
        for column, suffix, ref in (
            ("lifecycle_median_gco2eq_per_kwh", "lifecycle_g_co2e_per_kwh", "lifecycle_reference"),
            ("direct_gco2eq_per_kwh", "direct_g_co2e_per_kwh", "direct_reference"),
        ):
            value = parse_float(row[column])
            if value is None:
                continue
            ys = years_in(row[ref])
            extra = ""
            if column.startswith("lifecycle") and row["lifecycle_min"] and row["lifecycle_max"]:
                extra = f"range {row['lifecycle_min']}-{row['lifecycle_max']}"
            out.append(
                {
                    "key": f"fuel.{fuel}.{suffix}",
                    "value": fmt(value, 3),
                    "unit": "gCO2e/kWh",
                    "description": f"{fuel}: {'median lifecycle' if column.startswith('lifecycle') else 'direct'} "
                    "emission factor",
                    "source": row[ref],
                    "year": max(ys) if ys else "",
                    "licence": FACTS,
                    "note": extra,
                }
            )
    keys = Counter(r["key"] for r in out)
    duplicated = [k for k, n in keys.items() if n > 1]
    if duplicated:
        raise SystemExit(f"build_data: duplicate constant keys {duplicated}")
    return sorted(out, key=lambda r: r["key"])


# --------------------------------------------------------------------------------------
# Inference energy (ML.ENERGY Leaderboard v3)
# --------------------------------------------------------------------------------------

INFERENCE_COLUMNS = (
    "task",
    "model",
    "architecture",
    "total_params_b",
    "active_params_b",
    "precision",
    "gpu",
    "num_gpus",
    "batch",
    "variant",
    "avg_batch_size",
    "energy_per_token_j",
    "energy_per_request_j",
    "avg_output_tokens",
    "energy_per_image_j",
    "energy_per_video_j",
    "avg_power_w",
    "height",
    "width",
    "steps",
    "frames",
    "source",
    "year",
    "licence",
)
INFERENCE_LLM_TASKS = ("lm-arena-chat", "gpqa", "sourcegraph-fim", "image-chat", "video-chat")
INFERENCE_DIFFUSION_TASKS = {"text-to-image": "energy_per_image_joules", "text-to-video": "energy_per_video_joules"}
INFERENCE_ARCHITECTURES = {
    "Dense Transformer": "dense",
    "MoE": "moe",
    "Mamba-Transformer Hybrid": "hybrid",
    "": "diffusion",  # the leaderboard leaves it empty for its diffusion models
}
INFERENCE_SOURCE = "ML.ENERGY Leaderboard v3"
INFERENCE_YEAR = 2026  # the leaderboard data's last_updated: 2026-02-16


def _sig(value: float, digits: int = 5) -> str:
    """``value`` to ``digits`` significant figures, in plain decimal form (no exponent)."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    return fmt(value, decimals) if decimals else _whole(value)


def _whole(value: float | None) -> str:
    """A whole number's text (``fmt(x, 0)`` would strip the zeros of 10 or 1280)."""
    return str(int(round(value or 0.0)))


def build_inference(b: Build) -> list[dict[str, Any]]:
    """One row per measured configuration of the ML.ENERGY Leaderboard v3: GPU energy per token, request, image or
    video, with the configuration it was measured in. Configurations that share model, GPUs and batch (diffusion
    runs with different parallelism, which the compiled file does not name) are numbered by ``variant``."""
    out: list[dict[str, Any]] = []
    for row in b.dicts("inference/mlenergy-leaderboard-v3.csv"):
        task = row["task"]
        where = f"{row['model_id']} {task} {row['gpu_model']} x{row['num_gpus']}"
        if task not in INFERENCE_LLM_TASKS and task not in INFERENCE_DIFFUSION_TASKS:
            b.drop("inference_energy", "unknown task", f"{where} ({task!r})")
            continue
        expected_file = f"{row['model_id'].replace('/', '__')}__{task}.json"
        if row["model_file"] != expected_file:  # the docs name a row's upstream file by this rule
            raise SystemExit(f"build_data: inference: {where} comes from {row['model_file']}, not {expected_file}")
        if row["architecture"] not in INFERENCE_ARCHITECTURES:
            raise SystemExit(f"build_data: inference: unknown architecture {row['architecture']!r} ({where})")
        llm = task in INFERENCE_LLM_TASKS
        numbers = {
            name: parse_float(row[name])
            for name in ("total_params_billions", "activated_params_billions", "num_gpus", "avg_power_watts")
        }
        batch = parse_float(row["max_num_seqs"] if llm else row["batch_size"])
        energy_columns = (
            ("energy_per_token_joules", "energy_per_request_joules", "avg_output_len", "avg_batch_size")
            if llm
            else (INFERENCE_DIFFUSION_TASKS[task],)
        )
        energies = {name: parse_float(row[name]) for name in energy_columns}
        missing = [n for n, v in {**numbers, **energies, "batch": batch}.items() if v is None or v <= 0]
        if missing:
            b.drop("inference_energy", "missing or non-positive figure", f"{where}: {', '.join(missing)}")
            continue
        item: dict[str, Any] = {
            "task": task,
            "model": row["model_id"],
            "architecture": INFERENCE_ARCHITECTURES[row["architecture"]],
            "total_params_b": fmt(numbers["total_params_billions"], 2),
            "active_params_b": fmt(numbers["activated_params_billions"], 2),
            "precision": row["weight_precision"],
            "gpu": row["gpu_model"],
            "num_gpus": _whole(numbers["num_gpus"]),
            "batch": _whole(batch),
            "avg_power_w": fmt(numbers["avg_power_watts"], 1),
            "source": INFERENCE_SOURCE,
            "year": INFERENCE_YEAR,
            "licence": FACTS,
        }
        if llm:
            item.update(
                avg_batch_size=_sig(energies["avg_batch_size"] or 0.0, 4),
                energy_per_token_j=_sig(energies["energy_per_token_joules"] or 0.0),
                energy_per_request_j=_sig(energies["energy_per_request_joules"] or 0.0),
                avg_output_tokens=fmt(energies["avg_output_len"], 1),
            )
        else:
            column = "energy_per_image_j" if task == "text-to-image" else "energy_per_video_j"
            prefix = "image" if task == "text-to-image" else "video"
            item[column] = _sig(energies[INFERENCE_DIFFUSION_TASKS[task]] or 0.0)
            item.update(
                height=row[f"{prefix}_height"], width=row[f"{prefix}_width"], steps=row["inference_steps"],
                frames=row["num_frames"],
            )
        out.append(item)

    def identity(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["task"], r["model"], r["precision"], r["gpu"], int(r["num_gpus"]), int(r["batch"]))

    def energy(r: dict[str, Any]) -> float:
        return float(r.get("energy_per_token_j") or r.get("energy_per_image_j") or r.get("energy_per_video_j"))

    out.sort(key=lambda r: (*identity(r), energy(r)))
    seen: Counter[tuple[Any, ...]] = Counter()
    for r in out:
        seen[identity(r)] += 1
        r["variant"] = seen[identity(r)]
    return out


# --------------------------------------------------------------------------------------
# Text files
# --------------------------------------------------------------------------------------


def attribution_md(b: Build) -> bytes:
    """ATTRIBUTION.md: every dataset used, its upstream, version, licence and required attribution."""
    lines = [
        "# Attribution for wattprint's embedded data",
        "",
        "The tables in this folder are generated by `scripts/build_data.py` from the public datasets below.",
        "wattprint's code is Apache-2.0; the figures keep the licences of the datasets they come from, recorded",
        "per row in each table's `licence` column. The Electricity Maps values (ODbL 1.0) are kept in their own",
        "file, `intensity_electricitymaps.csv`, with the notice in `ELECTRICITYMAPS_ODbL_NOTICE.md`.",
        "",
        "Changes made to the data (CC BY 4.0 asks that changes be indicated) are listed for each dataset.",
        "",
    ]
    for folder in sorted(b.datasets_used):
        d = DATASETS.get(folder)
        if d is None:
            raise SystemExit(f"build_data: no attribution entry for raw data folder {folder!r}")
        files = sorted(rel for rel in b.inputs if rel.startswith(folder + "/"))
        lines += [
            f"## {d.title}",
            "",
            f"- Raw data folder: `{folder}/`",
            f"- Upstream: {d.upstream}",
            f"- Version: {d.version}",
            f"- Licence: {d.licence}",
            f"- Attribution: {d.attribution}",
            f"- Changes: {d.changes}",
            "- Files used: " + ", ".join(f"`{f.split('/', 1)[1]}`" for f in files),
            "",
        ]
    lines += [*MIT_NOTICE.splitlines(), ""]
    return "\n".join(lines).encode("utf-8")


# The MIT licence asks that its copyright and permission notice accompany substantial portions.
MIT_NOTICE = """## MIT licence notice (CodeCarbon and ML CO2 Impact data)

CodeCarbon: Copyright (c) 2019 Mila, BCG Gamma, CometML, Haverford College; Copyright (c) 2023 Code Carbon NGO.
ML CO2 Impact: Copyright (c) the contributors of https://github.com/mlco2/impact.

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and
to permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of
the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO
THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
"""


ODBL_NOTICE = """# Electricity Maps data: Open Database License notice

`intensity_electricitymaps.csv` contains yearly carbon-intensity averages from Electricity Maps
(https://www.electricitymaps.com), as republished in the co2.js project of The Green Web Foundation
(https://github.com/thegreenwebfoundation/co2.js, data/output/electricity-maps/, commit
27cbe8328aeaad0824fb07b3640dc45b72228c7b).

Contains data from Electricity Maps, made available under the Open Database License (ODbL) 1.0:
https://opendatacommons.org/licenses/odbl/1-0/ . Any rights in individual contents of the database are
licensed under the Database Contents License: https://opendatacommons.org/licenses/dbcl/1-0/ .

`intensity_electricitymaps.csv` is a derivative database of that data (latest year per zone, with the
zone key prefixed `em:` and the shares converted to fractions). It is distributed under the ODbL 1.0:
if you publicly use it or a database derived from it, attribute Electricity Maps, keep this notice, and
offer any derived database under the ODbL. It is a separate file on purpose: the rest of wattprint's
data and its Apache-2.0 code are not derived from it, and using wattprint does not put your own data
under the ODbL.
"""


def manifest_json(b: Build, outputs: dict[str, bytes], row_counts: dict[str, int]) -> bytes:
    """manifest.json: the raw inputs' hashes, each table's rows and hash, dropped rows and warnings."""
    manifest = {
        "generated_by": "scripts/build_data.py",
        "raw_inputs": dict(sorted(b.inputs.items())),
        "tables": {
            name: {"rows": row_counts.get(name), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(outputs.items())
        },
        "dropped": {table: dict(sorted(c.items())) for table, c in sorted(b.dropped.items()) if c},
        "merged": dict(sorted(b.merged.items())),
        "warnings": b.warnings,
    }
    return (json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------


def build_all(raw_dir: Path, *, quiet: bool = False) -> dict[str, bytes]:
    """Every generated file's name and bytes."""
    b = Build(raw_dir, quiet=quiet)
    intensity, em = build_intensity_tables(b)
    cpu = build_cpu_table(b)
    gpu = build_gpu_table(b)
    pue = build_pue_wue(b)
    equivalences = build_equivalences(b)
    constants = build_constants(b)
    inference = build_inference(b)
    outputs: dict[str, bytes] = {
        "intensity.csv": csv_bytes(INTENSITY_COLUMNS, intensity),
        "intensity_electricitymaps.csv": csv_bytes(INTENSITY_COLUMNS, em),
        "cpu_tdp.csv": csv_bytes(("key", "name", "tdp_w", "cores", "source", "licence", "note"), cpu),
        "gpu_tdp.csv": csv_bytes(
            ("key", "name", "kind", "tdp_w", "memory_gb", "form", "source", "licence", "note"), gpu
        ),
        "pue_wue.csv": csv_bytes(
            (
                "provider",
                "metric",
                "region",
                "value",
                "unit",
                "period",
                "year",
                "is_default",
                "scope",
                "confidence",
                "source",
                "licence",
                "note",
            ),
            pue,
        ),
        "equivalences.csv": csv_bytes(
            ("key", "g_co2e_per_unit", "unit", "description", "vintage", "status", "source", "licence"), equivalences
        ),
        "constants.csv": csv_bytes(
            ("key", "value", "unit", "description", "year", "source", "licence", "note"), constants
        ),
        "inference_energy.csv": csv_bytes(INFERENCE_COLUMNS, inference),
        "ELECTRICITYMAPS_ODbL_NOTICE.md": ODBL_NOTICE.encode("utf-8"),
    }
    outputs["ATTRIBUTION.md"] = attribution_md(b)
    counts = {
        "intensity.csv": len(intensity),
        "intensity_electricitymaps.csv": len(em),
        "cpu_tdp.csv": len(cpu),
        "gpu_tdp.csv": len(gpu),
        "pue_wue.csv": len(pue),
        "equivalences.csv": len(equivalences),
        "constants.csv": len(constants),
        "inference_energy.csv": len(inference),
    }
    outputs["manifest.json"] = manifest_json(b, outputs, counts)
    assert set(outputs) == set(GENERATED_FILES)
    return outputs


def default_raw_dir() -> Path:
    """$WATTPRINT_RAW_DATA, else ../shared/data next to the repository."""
    env = os.environ.get(RAW_ENV)
    return Path(env) if env else DEFAULT_RAW


def _js_calculator_data() -> ModuleType:
    """scripts/js_calculator_data.py, imported by path (the export of the tables for the JavaScript calculator)."""
    path = Path(__file__).resolve().parent / "js_calculator_data.py"
    spec = importlib.util.spec_from_file_location("_wattprint_js_calculator_data", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_or_empty(path: Path) -> bytes:
    return path.read_bytes() if path.is_file() else b""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "raw_data", nargs="?", type=Path, help=f"raw data folder (default: ${RAW_ENV} or {DEFAULT_RAW})"
    )
    parser.add_argument(
        "--raw-data", dest="raw_data_opt", type=Path, metavar="DIR", help="same as the positional argument"
    )
    parser.add_argument("--out", type=Path, default=PACKAGE_DATA, help=f"output folder (default: {PACKAGE_DATA})")
    parser.add_argument("--check", action="store_true", help="build in memory and compare with the files in --out")
    parser.add_argument("--quiet", action="store_true", help="do not print warnings (they stay in manifest.json)")
    args = parser.parse_args(argv)
    raw = (args.raw_data_opt or args.raw_data or default_raw_dir()).resolve()
    if not raw.is_dir():
        print(
            f"build_data: raw data folder {raw} not found (pass it as an argument or set ${RAW_ENV})", file=sys.stderr
        )
        return 2
    outputs = build_all(raw, quiet=args.quiet)
    if args.check:
        stale = [
            n for n in sorted(outputs) if not (args.out / n).is_file() or (args.out / n).read_bytes() != outputs[n]
        ]
        js_data = _js_calculator_data()
        if args.out == PACKAGE_DATA and js_data.calculator_json(outputs) != _read_or_empty(js_data.JS_DATA):
            stale.append(str(js_data.JS_DATA.relative_to(REPO_ROOT)))
        if stale:
            print(f"build_data: out of date in {args.out}: {', '.join(stale)}", file=sys.stderr)
            return 1
        print(f"build_data: {len(outputs)} files in {args.out} are up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in outputs.items():
        (args.out / name).write_bytes(data)
    total = sum(len(d) for d in outputs.values())
    print(f"build_data: wrote {len(outputs)} files ({total} bytes) to {args.out}")
    if args.out == PACKAGE_DATA:  # the JavaScript calculator's copy of the tables (clients/js)
        js_data = _js_calculator_data()
        js_data.JS_DATA.parent.mkdir(parents=True, exist_ok=True)
        js_data.JS_DATA.write_bytes(js_data.calculator_json(outputs))
        print(f"build_data: wrote {js_data.JS_DATA.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
