/** Intensity uncertainty, PUE/WUE and the footprint of IT energy: the rules of Python's `wattprint.carbon.intensity`
 * and `wattprint.accounting.footprint` (docs/carbon.md), on the embedded tables. */
import { ArgumentError } from "../errors.js";
import { type IntensityRow, defaultPue, defaultWue, equivalenceRow, lookupIntensity } from "./data.js";

export const HOW_ARGUMENT = "argument";
export const HOW_UNKNOWN = "location unknown";
export const HOW_GIVEN = "given";

const BASE_UNCERTAINTY: Record<string, number> = {
  world: 0.10, country: 0.10, "em-zone": 0.10, "us-state": 0.15, egrid: 0.15, "in-state": 0.15, "nordic-zone": 0.15,
  "cn-province": 0.20, "ca-province": 0.20,
};
const CLOUD_OWN_UNCERTAINTY = 0.10;
const CLOUD_CCF_UNCERTAINTY = 0.20;
const CLOUD_MAPPING_UNCERTAINTY = 0.05;
const AGE_UNCERTAINTY_PER_YEAR = 0.03;
const UNDATED_UNCERTAINTY = 0.15;
const UNKNOWN_LOCATION_UNCERTAINTY = 0.60;
export const PROVIDER_PUE_UNCERTAINTY = 0.05;
export const UNKNOWN_PUE_UNCERTAINTY = 0.20;

/** A carbon intensity with its provenance and how the location was decided (Python's `Intensity`). */
export interface Intensity {
  g_per_kwh: number;
  zone: string;
  zone_name: string;
  source: string;
  year: number | null;
  kind: string;
  uncertainty_rel: number;
  how_located: string;
  licence: string;
  provider: string | null;
  basis: string | null;
  grid_zone: string | null;
}

export function check(name: string, value: unknown, minimum: number, maximum: number): number {
  if (typeof value !== "number") throw new ArgumentError(`${name} must be a number between ${minimum} and ${maximum}, got ${JSON.stringify(value)}`);
  if (!(minimum <= value && value <= maximum)) throw new ArgumentError(`${name} must be between ${minimum} and ${maximum}, got ${value}`);
  return value;
}

const currentYear = () => new Date().getUTCFullYear();

function ageTerm(year: number | null, reference: number): number {
  return year === null ? UNDATED_UNCERTAINTY : AGE_UNCERTAINTY_PER_YEAR * Math.max(0, reference - year - 1);
}

function base(row: IntensityRow): [number, number] {
  if (row.kind !== "cloud-region") return [BASE_UNCERTAINTY[row.kind] ?? 0.20, 0];
  const factor = row.grid_factor ?? "";
  if (factor.startsWith("ccf:")) return [CLOUD_CCF_UNCERTAINTY, 0];
  if (factor.startsWith("zone:")) {
    const zone = lookupIntensity(factor.slice("zone:".length));
    return [zone ? BASE_UNCERTAINTY[zone.kind] ?? 0.20 : 0.20, CLOUD_MAPPING_UNCERTAINTY];
  }
  return [CLOUD_OWN_UNCERTAINTY, 0];
}

/** The relative uncertainty of a row's figure used this year: base, age, mapping (quadrature); 60 % for the world
 * average standing in for an unknown location. */
export function intensityUncertainty(row: IntensityRow, howLocated: string, referenceYear = currentYear()): number {
  const age = ageTerm(row.year, referenceYear);
  if (howLocated === HOW_UNKNOWN) return Math.hypot(UNKNOWN_LOCATION_UNCERTAINTY, age);
  const [b, mapping] = base(row);
  return Math.sqrt(b ** 2 + age ** 2 + mapping ** 2);
}

export function intensityFromRow(row: IntensityRow, howLocated: string): Intensity {
  return {
    g_per_kwh: row.intensity_g_per_kwh, zone: row.key, zone_name: row.name, source: row.source, year: row.year,
    kind: "average", uncertainty_rel: intensityUncertainty(row, howLocated), how_located: howLocated, licence: row.licence,
    provider: row.provider, basis: row.basis, grid_zone: row.zone,
  };
}

/** The row of a location string; an unknown one is an error naming it (never a default). */
export function lookupLocation(value: unknown, origin = "argument"): IntensityRow {
  if (typeof value !== "string" || !value.trim()) {
    throw new ArgumentError(`location ${JSON.stringify(value)} from ${origin} must be a non-empty string such as 'FR' or 'aws:us-east-1'`);
  }
  const row = lookupIntensity(value);
  if (!row) {
    throw new ArgumentError(`location ${JSON.stringify(value)} from ${origin} is not a known location; use an ISO country code ('FR', 'DEU'), a US state, Indian state, Chinese or Canadian province ('US-CA', 'IN-MH'), a Nordic zone ('SE3'), an eGRID subregion ('egrid:CAMX') or a cloud region ('gcp:europe-west1', 'aws:us-east-1'); regions() lists them`);
  }
  return row;
}

/** Where: a location given as an argument, else the world average marked unknown (the browser has no config). */
export function locate(location?: string): Intensity {
  if (location !== undefined) return intensityFromRow(lookupLocation(location), HOW_ARGUMENT);
  return intensityFromRow(lookupIntensity("WORLD")!, HOW_UNKNOWN);
}

/** An intensity the user gave (`how_located: "given"`), replacing a location's figure when one is given. */
export function givenIntensity(gPerKwh: number, uncertaintyRel = 0, location?: Intensity): Intensity {
  const value = check("intensity", gPerKwh, 0, 5000);
  const uncertainty = check("intensity_uncertainty_rel", uncertaintyRel, 0, 10);
  const source = `given (intensity=${value} gCO2e/kWh)`;
  if (!location) {
    return { g_per_kwh: value, zone: HOW_GIVEN, zone_name: "given by the user", source, year: null, kind: "average",
      uncertainty_rel: uncertainty, how_located: HOW_GIVEN, licence: "", provider: null, basis: null, grid_zone: null };
  }
  return { ...location, g_per_kwh: value, source, year: null, kind: "average", uncertainty_rel: uncertainty, how_located: HOW_GIVEN, licence: "" };
}

function region(intensity: Intensity): string | null {
  return intensity.provider && intensity.zone.includes(":") ? intensity.zone.split(":").slice(1).join(":") : null;
}

/** The PUE to apply, its source and its uncertainty: given (±0), the provider's (±5 %), else the industry's (±20 %). */
export function pueFor(intensity: Intensity, override?: number | null): [number, string, number] {
  if (override !== undefined && override !== null) {
    const value = check("pue", override, 1, 3);
    return [value, `given (pue=${value})`, 0];
  }
  const row = defaultPue(intensity.provider, region(intensity));
  const year = row.year !== null ? `, ${row.year}` : "";
  if (row.provider === "unknown") {
    const missing = intensity.provider ? `${intensity.provider} publishes no PUE in wattprint's table; ` : "";
    return [row.value, `${missing}industry average for an unknown data centre (${row.scope}${year}; ${row.source})`, UNKNOWN_PUE_UNCERTAINTY];
  }
  const where = row.region ? ` ${row.region}` : "";
  return [row.value, `${row.provider}${where} default (${row.scope}${year}; ${row.source})`, PROVIDER_PUE_UNCERTAINTY];
}

/** The WUE (L/kWh of IT energy) to apply and its source; null where none is published. */
export function wueFor(intensity: Intensity, override?: number | null): [number | null, string] {
  if (override !== undefined && override !== null) {
    const value = check("wue", override, 0, 20);
    return [value, `given (wue=${value} L/kWh)`];
  }
  if (!intensity.provider) return [null, "water not estimated: no WUE is known for this data centre (wue to set one)"];
  const row = defaultWue(intensity.provider);
  if (!row || row.provider !== intensity.provider) {
    return [null, `water not estimated: ${intensity.provider} publishes no WUE in wattprint's table (wue to set one)`];
  }
  const year = row.year !== null ? `, ${row.year}` : "";
  return [row.value, `${row.provider} default (${row.scope}${year}; ${row.confidence} confidence; ${row.source})`];
}

export interface Footprint {
  energy_kwh: number;
  energy_uncertainty_rel: number;
  pue: number;
  pue_source: string;
  pue_uncertainty_rel: number;
  facility_energy_kwh: number;
  emissions_g: number;
  emissions_uncertainty_rel: number;
  wue_l_per_kwh: number | null;
  wue_source: string;
  water_l: number | null;
  intensity: Intensity;
  notes: string[];
}

const quadrature = (...terms: number[]) => Math.sqrt(terms.reduce((s, t) => s + t * t, 0));

/** IT energy priced at one intensity: facility = E x PUE; emissions = facility x intensity, u in quadrature. */
export function account(energyKwh: number, energyUncertaintyRel: number, intensity: Intensity, pue?: number | null, wue?: number | null): Footprint {
  if (typeof energyKwh !== "number" || !Number.isFinite(energyKwh) || energyKwh < 0) {
    throw new ArgumentError(`energy_kwh must be a finite number of at least 0, got ${JSON.stringify(energyKwh)}`);
  }
  const uncertainty = check("energy_uncertainty_rel", energyUncertaintyRel, 0, 10);
  const [pueValue, pueSource, pueU] = pueFor(intensity, pue);
  const [wueValue, wueSource] = wueFor(intensity, wue);
  const emissions = energyKwh * pueValue * intensity.g_per_kwh;
  const notes: string[] = [];
  if (intensity.how_located === HOW_UNKNOWN) notes.push("no location given: the world average stands in (location= to set one)");
  if (wue === undefined || wue === null) notes.push(wueSource);
  return {
    energy_kwh: energyKwh, energy_uncertainty_rel: uncertainty, pue: pueValue, pue_source: pueSource, pue_uncertainty_rel: pueU,
    facility_energy_kwh: energyKwh * pueValue, emissions_g: emissions,
    emissions_uncertainty_rel: quadrature(uncertainty, pueU, intensity.uncertainty_rel),
    wue_l_per_kwh: wueValue, wue_source: wueSource, water_l: wueValue !== null ? energyKwh * wueValue : null, intensity, notes,
  };
}

const KM_PER_MILE = 1.609344;
const CAR = "driven by an average gasoline passenger car";
const EQUIVALENTS: [string, string, string, string, string, number][] = [
  ["smartphone_charges", "smartphone_charge", "smartphones charged", "smartphone charges", "smartphone charge", 1.0],
  ["car_km", "car_mile_us", `km ${CAR}`, "km", "km", 1.0 / KM_PER_MILE],
  ["car_miles", "car_mile_us", `miles ${CAR}`, "miles", "mile", 1.0],
  ["tree_seedlings_10_years", "tree_seedling_10_years", "tree seedlings grown for 10 years", "tree seedlings", "tree seedling", 1.0],
];

export interface Equivalent { key: string; label: string; value: number; unit: string; factor: number; factor_unit: string; source: string; vintage: string; note: string }

/** Emissions in everyday terms (US EPA equivalencies), as Python's `accounting.equivalents`. */
export function equivalents(emissionsG: number): Equivalent[] {
  return EQUIVALENTS.map(([key, tableKey, label, unit, singular, conversion]) => {
    const row = equivalenceRow(tableKey);
    const factor = row.g_co2e_per_unit * conversion;
    return {
      key, label, value: emissionsG / factor, unit, factor, factor_unit: `gCO2e per ${singular}`, source: row.source,
      vintage: row.vintage + (conversion !== 1.0 ? `; converted from ${row.g_co2e_per_unit} g per mile` : ""), note: row.status,
    };
  });
}
