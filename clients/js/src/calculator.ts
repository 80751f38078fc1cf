/** The calculator in JavaScript, with no server: `estimate` and `compareRegions` on the same embedded tables and
 * arithmetic as Python's `wattprint.plan` (a parity test compares them), and `regions` to search the locations. */
export { estimate, FORMULA, RAM_W_PER_GB, type Estimate, type EstimateInput, type EstimatedPart } from "./calculator/estimate.js";
export { compareRegions, knownProviders, type CompareInput, type RegionComparison, type RegionPrice } from "./calculator/compare.js";
export { account, equivalents, intensityUncertainty, type Equivalent, type Footprint, type Intensity } from "./calculator/accounting.js";
export { attribution, canonicalLocationKey, cloudRegions, lookupCpu, lookupGpu, lookupIntensity, type IntensityRow } from "./calculator/data.js";
import { data } from "./calculator/data.js";

/** Locations whose key, name or country matches every word of `q` (all without `q`), as `{key, name, kind, intensity_g_per_kwh, year, source, licence}`. */
export function regions(q = "", limit = 50) {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  return data().intensity
    .filter((r) => words.every((w) => `${r.key} ${r.name} ${r.country ?? ""} ${r.provider ?? ""} ${r.aliases ?? ""}`.toLowerCase().includes(w)))
    .slice(0, limit)
    .map((r) => ({ key: r.key, name: r.name, kind: r.kind, intensity_g_per_kwh: r.intensity_g_per_kwh, year: r.year, basis: r.basis, source: r.source, licence: r.licence }));
}

/** GPU model names of the TDP table, for pickers. */
export function gpuModels(): string[] {
  return data().gpus.map((g) => g.name);
}
