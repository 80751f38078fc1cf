/** The same IT energy priced in many regions, ranked from the greenest (Python's `wattprint.plan.compare_regions`). */
import { ArgumentError } from "../errors.js";
import { HOW_ARGUMENT, account, check, intensityFromRow, lookupLocation } from "./accounting.js";
import { type IntensityRow, cloudRegions } from "./data.js";

export interface RegionPrice {
  key: string; name: string; kind: string; provider: string | null; country: string | null; continent: string | null;
  intensity_g_per_kwh: number; intensity_year: number | null; intensity_source: string; intensity_uncertainty_rel: number;
  intensity_basis: string; pue: number; pue_source: string; facility_energy_kwh: number; emissions_g: number;
  emissions_uncertainty_rel: number; water_l: number | null; rank: number | null; ratio: number | null; comparable: boolean;
}

export interface RegionComparison {
  workload: string; energy_kwh: number; energy_uncertainty_rel: number; pue_given: number | null; ratio_to: string;
  reference: RegionPrice | null; regions: RegionPrice[]; near: RegionPrice | null; bases: string[]; mixed_bases: boolean;
  greenest_near: { country: RegionPrice[]; continent: RegionPrice[] };
}

export interface CompareInput {
  energy_kwh: number; energy_uncertainty_rel?: number; providers?: string[] | string; locations?: string[] | string;
  reference?: string; near?: string; pue?: number; wue?: number; near_limit?: number; workload?: string;
}

/** The cloud providers that have regions in the intensity table. */
export function knownProviders(): string[] {
  return [...new Set(cloudRegions().map((r) => r.provider).filter((p): p is string => !!p))].sort();
}

function records(providers: string[] | undefined, locations: string[] | undefined): IntensityRow[] {
  const chosen = new Map<string, IntensityRow>();
  for (const provider of providers ?? []) {
    const rows = cloudRegions(provider);
    if (!rows.length) throw new ArgumentError(`provider ${JSON.stringify(provider)} has no regions in the intensity table; known: ${knownProviders().join(", ")}`);
    for (const row of rows) if (!chosen.has(row.key)) chosen.set(row.key, row);
  }
  for (const location of locations ?? []) {
    const row = lookupLocation(location, "locations");
    if (!chosen.has(row.key)) chosen.set(row.key, row);
  }
  if (providers === undefined && locations === undefined) for (const row of cloudRegions()) if (!chosen.has(row.key)) chosen.set(row.key, row);
  if (!chosen.size) throw new ArgumentError("nothing to compare: give providers and/or locations");
  return [...chosen.values()];
}

function price(row: IntensityRow, energy: number, uncertainty: number, pue?: number, wue?: number): RegionPrice {
  const intensity = intensityFromRow(row, HOW_ARGUMENT);
  const fp = account(energy, uncertainty, intensity, pue, wue);
  return {
    key: row.key, name: row.name, kind: row.kind, provider: row.provider, country: row.country, continent: row.continent,
    intensity_g_per_kwh: intensity.g_per_kwh, intensity_year: intensity.year, intensity_source: intensity.source,
    intensity_uncertainty_rel: intensity.uncertainty_rel, intensity_basis: row.basis, pue: fp.pue, pue_source: fp.pue_source,
    facility_energy_kwh: fp.facility_energy_kwh, emissions_g: fp.emissions_g, emissions_uncertainty_rel: fp.emissions_uncertainty_rel,
    water_l: fp.water_l, rank: null, ratio: null, comparable: true,
  };
}

/** Price `energy_kwh` of IT energy at every region of `providers` and each of `locations` (every cloud region when
 * neither is given), ranked from the greenest, with ratios to `reference` (else the greenest). */
export function compareRegions(input: CompareInput): RegionComparison {
  const { energy_kwh: energy, pue, wue } = input;
  if (typeof energy !== "number" || !Number.isFinite(energy) || energy < 0) {
    throw new ArgumentError(`energy_kwh must be a finite number of at least 0, got ${JSON.stringify(energy)}`);
  }
  const uncertainty = check("energy_uncertainty_rel", input.energy_uncertainty_rel ?? 0, 0, 10);
  const nearLimit = input.near_limit ?? 3;
  if (!Number.isInteger(nearLimit) || nearLimit < 0) throw new ArgumentError(`near_limit must be a whole number of at least 0, got ${JSON.stringify(nearLimit)}`);
  const providers = typeof input.providers === "string" ? [input.providers] : input.providers;
  const locations = typeof input.locations === "string" ? [input.locations] : input.locations;
  const prices = records(providers, locations).map((r) => price(r, energy, uncertainty, pue, wue));
  prices.sort((a, b) => a.emissions_g - b.emissions_g || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  let ref: RegionPrice | null = null;
  if (input.reference !== undefined) {
    const row = lookupLocation(input.reference, "reference");
    ref = prices.find((p) => p.key === row.key) ?? price(row, energy, uncertainty, pue, wue);
  }
  const base = ref ?? prices[0];
  const ratio = (p: RegionPrice) => (base.emissions_g > 0 ? p.emissions_g / base.emissions_g : p.emissions_g === 0 ? 1.0 : null);
  const mark = (p: RegionPrice, rank: number | null): RegionPrice => ({ ...p, rank, ratio: ratio(p), comparable: p.intensity_basis === base.intensity_basis });
  const ranked = prices.map((p, index) => mark(p, index + 1));
  const byKey = new Map(ranked.map((p) => [p.key, p]));
  if (ref) ref = byKey.get(ref.key) ?? mark(ref, null);

  let near: RegionPrice | null = null;
  let nearCountry: RegionPrice[] = [];
  let nearContinent: RegionPrice[] = [];
  const nearKey = input.near ?? input.reference;
  if (nearKey !== undefined) {
    const row = lookupLocation(nearKey, "near");
    near = byKey.get(row.key) ?? mark(price(row, energy, uncertainty, pue, wue), null);
    if (row.country) nearCountry = ranked.filter((p) => p.country === row.country).slice(0, nearLimit);
    if (row.continent) nearContinent = ranked.filter((p) => p.continent === row.continent).slice(0, nearLimit);
  }
  const bases = [...new Set([...ranked.map((p) => p.intensity_basis), ...(ref ? [ref.intensity_basis] : [])])];
  return {
    workload: input.workload ?? "the work", energy_kwh: energy, energy_uncertainty_rel: uncertainty, pue_given: pue ?? null,
    ratio_to: ref ? ref.key : "greenest", reference: ref, regions: ranked, near, bases, mixed_bases: bases.length > 1,
    greenest_near: { country: nearCountry, continent: nearContinent },
  };
}
