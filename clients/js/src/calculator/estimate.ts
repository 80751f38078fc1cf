/** The calculator: a job's energy, emissions and water from its hardware and duration, without running it; the
 * same arithmetic, constants and tables as Python's `wattprint.plan.estimate` (docs/estimate.md), so the same
 * inputs give the same figures. */
import { ArgumentError } from "../errors.js";
import { type Equivalent, type Footprint, type Intensity, account, check, equivalents, givenIntensity, HOW_UNKNOWN, intensityFromRow, locate, lookupLocation, HOW_ARGUMENT } from "./accounting.js";
import { type CpuRow, cpuAlternatives, lookupCpu, lookupGpu } from "./data.js";

/** Constants of Python's `wattprint.sensors.model` and `wattprint.plan.estimate`. */
export const RAM_W_PER_GB = 0.3725;
export const UNCERTAINTY_RAM = 0.5;
export const UNCERTAINTY_TDP = 0.4;
export const UNCERTAINTY_TDP_VM = 0.5;
export const UNCERTAINTY_GPU_TDP = 0.40;
export const UNCERTAINTY_GIVEN_POWER = 0.10;
const MAX_COUNT = 1_000_000;

export interface EstimateInput {
  hours?: number; duration_s?: number; gpu?: string; cpu?: string; count?: number; gpu_count?: number; cpu_count?: number;
  cpu_cores?: number; power_w?: number; memory_gb?: number; utilization?: number; gpu_utilization?: number;
  cpu_utilization?: number; cpu_tdp_w?: number; location?: string; intensity?: number; intensity_uncertainty_rel?: number;
  pue?: number; wue?: number;
}

export interface EstimatedPart {
  component: string; device: string; count: number; power_w: number; energy_kwh: number; method: string;
  uncertainty_rel: number; basis: string; model: string | null; tdp_w: number | null; utilization: number | null;
  source: string | null; alternative_tdps: { source: string; tdp_w: number }[]; notes: string[];
}

export interface Estimate {
  duration_s: number; hours: number; power_w: number; energy_kwh: number; energy_uncertainty_rel: number;
  components: EstimatedPart[]; facility_energy_kwh: number; pue: number; pue_source: string; emissions_g: number;
  emissions_uncertainty_rel: number; water_l: number | null; wue_source: string;
  intensity: { g_per_kwh: number; zone: string; zone_name: string; source: string; year: number | null; kind: string; how_located: string; uncertainty_rel: number };
  location: string | null; equivalents: Equivalent[]; assumptions: string[]; formula: string; notes: string[];
}

const KNOWN = new Set(["hours", "duration_s", "gpu", "cpu", "count", "gpu_count", "cpu_count", "cpu_cores", "power_w", "memory_gb",
  "utilization", "gpu_utilization", "cpu_utilization", "cpu_tdp_w", "location", "intensity", "intensity_uncertainty_rel", "pue", "wue"]);

function count(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_COUNT) {
    throw new ArgumentError(`${name} must be a whole number from 1 to 1,000,000, got ${JSON.stringify(value)}`);
  }
  return value;
}

function utilization(name: string, value: unknown): number {
  if (typeof value === "number" && value > 1 && value <= 100) throw new ArgumentError(`${name} is a fraction from 0 to 1 (0.8 for 80 %), got ${value}`);
  return check(name, value, 0, 1);
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const given = (v: unknown) => v !== undefined && v !== null;

function gpuPart(name: unknown, n: number, use: number, hours: number): EstimatedPart {
  if (typeof name !== "string" || !name.trim()) throw new ArgumentError(`gpu must be a GPU model name such as 'NVIDIA T4', got ${JSON.stringify(name)}`);
  const spec = lookupGpu(name);
  if (!spec) throw new ArgumentError(`gpu ${JSON.stringify(name)} is not in the GPU TDP table (or matches rows with different TDPs); give the table's name (gpuModels() lists them) or power_w (the power in watts) instead`);
  const power = n * spec.tdp_w * use;
  return {
    component: "gpu", device: spec.name, count: n, power_w: power, energy_kwh: power * hours / 1000.0, method: "model",
    uncertainty_rel: UNCERTAINTY_GPU_TDP, model: spec.name, tdp_w: spec.tdp_w, utilization: use, source: spec.source,
    basis: `${n} x TDP ${spec.tdp_w} W (${spec.source}) x utilisation ${pct(use)}`, alternative_tdps: [], notes: [],
  };
}

function cpuPart(model: string | undefined, cpuCount: number | undefined, cpuCores: number | undefined, shared: number | undefined,
  defaultUse: number, cpuUtilization: number | undefined, hours: number, tdpW: number | undefined): EstimatedPart {
  let spec: CpuRow | undefined;
  if (model !== undefined) {
    if (typeof model !== "string" || !model.trim()) throw new ArgumentError(`cpu must be a CPU model name such as 'Xeon Gold 6248', got ${JSON.stringify(model)}`);
    spec = lookupCpu(model);
    if (!spec) throw new ArgumentError(`cpu ${JSON.stringify(model)} is not in the CPU TDP table (or matches rows with different TDPs); give the table's name or power_w (the power in watts) instead`);
  }
  let alternatives = spec ? cpuAlternatives(spec) : [];
  let tdpChoice: string[] = spec && alternatives.length
    ? [`sources disagree on the TDP of ${spec.name}: ${alternatives.map((a) => `${a.source} gives ${a.tdp_w} W`).join(", ")}; chose ${spec.tdp_w} W (${spec.source}), the table's figure; give cpu_tdp_w to use another`]
    : [];
  if (tdpW !== undefined) {
    const watts = check("cpu_tdp_w", tdpW, 1, 10_000);
    spec = { key: spec?.key ?? "cpu", name: spec?.name ?? "CPU", tdp_w: watts, cores: spec?.cores ?? null, source: "given", licence: "", note: null };
    alternatives = [];
    tdpChoice = [];
  }
  const s = spec!;
  const use = cpuUtilization === undefined ? defaultUse : utilization("cpu_utilization", cpuUtilization);
  if (cpuCores !== undefined) {
    const cores = count("cpu_cores", cpuCores);
    if (!s.cores) throw new ArgumentError(`the CPU TDP table has no core count for ${JSON.stringify(s.name)}, so cpu_cores cannot be priced; give cpu_count (whole CPUs) instead`);
    const power = cores * (s.tdp_w / s.cores) * use;
    const notes = [...tdpChoice];
    if (cores > s.cores) notes.unshift(`${cores} cores is more than the ${s.cores} of one ${s.name}: priced as ${(cores / s.cores).toPrecision(3)} CPUs' worth; give cpu_count (whole CPUs) if that is not what was meant`);
    return {
      component: "cpu", device: s.name, count: cores, power_w: power, energy_kwh: power * hours / 1000.0, method: "model",
      uncertainty_rel: UNCERTAINTY_TDP_VM, model: s.name, tdp_w: s.tdp_w, utilization: use, source: s.source,
      basis: `${cores} core(s) x TDP ${s.tdp_w} W / ${s.cores} cores (${s.source}) x utilisation ${pct(use)}`,
      alternative_tdps: alternatives, notes,
    };
  }
  const n = cpuCount !== undefined ? count("cpu_count", cpuCount) : (shared ?? 1);
  const power = n * s.tdp_w * use;
  return {
    component: "cpu", device: s.name, count: n, power_w: power, energy_kwh: power * hours / 1000.0, method: "model",
    uncertainty_rel: UNCERTAINTY_TDP, model: s.name, tdp_w: s.tdp_w, utilization: use, source: s.source,
    basis: `${n} x TDP ${s.tdp_w} W (${s.source}) x utilisation ${pct(use)}`, alternative_tdps: alternatives, notes: tdpChoice,
  };
}

function energyUncertainty(parts: EstimatedPart[]): number {
  const total = parts.reduce((s, p) => s + p.energy_kwh, 0);
  if (total <= 0) return Math.max(0, ...parts.map((p) => p.uncertainty_rel));
  return Math.sqrt(parts.reduce((s, p) => s + (p.energy_kwh * p.uncertainty_rel) ** 2, 0)) / total;
}

function where(location: string | undefined, intensity: number | undefined, uncertainty: number): Intensity {
  if (intensity === undefined) return locate(location);
  const resolved = location !== undefined ? intensityFromRow(lookupLocation(location), HOW_ARGUMENT) : undefined;
  return givenIntensity(intensity, uncertainty, resolved);
}

export const FORMULA =
  "energy_kwh = sum(count x TDP_w x utilisation, or count x power_w) x hours / 1000 + memory_gb x 0.3725 W/GB x " +
  "hours / 1000; facility_energy_kwh = energy_kwh x PUE; emissions_g = facility_energy_kwh x intensity_g_per_kwh; " +
  "water_l = energy_kwh x WUE";

/** Estimate a job without running it; the keywords of Python's `wattprint.plan.estimate` (and `POST /estimate`). */
export function estimate(input: EstimateInput): Estimate {
  const unknown = Object.keys(input ?? {}).filter((k) => !KNOWN.has(k));
  if (unknown.length) throw new ArgumentError(`estimate does not take ${unknown.join(", ")}; it takes ${[...KNOWN].join(", ")}`);
  const i = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== null)) as EstimateInput;
  if (given(i.hours) === given(i.duration_s)) throw new ArgumentError("give the duration as hours or duration_s (one of them)");
  const duration = given(i.hours) ? check("hours", i.hours, 0, 1e6) * 3600.0 : check("duration_s", i.duration_s, 0, 3.6e9);
  const hours = duration / 3600.0;
  if (given(i.power_w) && (given(i.gpu) || given(i.cpu) || given(i.cpu_tdp_w))) throw new ArgumentError("power_w replaces a model name: give gpu/cpu or power_w, not both");
  if (!given(i.gpu) && given(i.gpu_count)) throw new ArgumentError("gpu_count needs gpu (the model of those GPUs)");
  if (!given(i.cpu) && given(i.cpu_cores)) throw new ArgumentError("cpu_cores needs cpu (the model of those CPUs)");
  if (!given(i.cpu) && !given(i.cpu_tdp_w) && given(i.cpu_count)) throw new ArgumentError("cpu_count needs cpu (the model of those CPUs) or cpu_tdp_w (their TDP)");
  if (given(i.cpu_count) && given(i.cpu_cores)) throw new ArgumentError("give cpu_count (whole CPUs) or cpu_cores (cores used), not both");
  if (given(i.power_w) && (given(i.utilization) || given(i.gpu_utilization) || given(i.cpu_utilization))) {
    throw new ArgumentError("utilization scales a model's TDP; power_w is already the average draw, so give one or the other");
  }
  const memory = given(i.memory_gb) ? check("memory_gb", i.memory_gb, 0, 1e7) : 0;
  if (!given(i.gpu) && !given(i.cpu) && !given(i.cpu_tdp_w) && !given(i.power_w) && memory <= 0) {
    throw new ArgumentError("nothing to estimate: give gpu, cpu, power_w or memory_gb");
  }
  const n = given(i.count) ? count("count", i.count) : undefined;
  const shared = given(i.utilization) ? utilization("utilization", i.utilization) : 1.0;

  const parts: EstimatedPart[] = [];
  const assumptions: string[] = [];
  if (given(i.gpu)) {
    const gpus = given(i.gpu_count) ? count("gpu_count", i.gpu_count) : (n ?? 1);
    const use = given(i.gpu_utilization) ? utilization("gpu_utilization", i.gpu_utilization) : shared;
    parts.push(gpuPart(i.gpu, gpus, use, hours));
  }
  if (given(i.cpu) || given(i.cpu_tdp_w)) {
    parts.push(cpuPart(i.cpu, i.cpu_count, i.cpu_cores, given(i.gpu) ? undefined : n, shared, i.cpu_utilization, hours, i.cpu_tdp_w));
  }
  if (given(i.power_w)) {
    const watts = check("power_w", i.power_w, 0, 1e8);
    const k = n ?? 1;
    parts.push({ component: "power", device: "given", count: k, power_w: k * watts, energy_kwh: k * watts * hours / 1000, method: "given",
      uncertainty_rel: UNCERTAINTY_GIVEN_POWER, basis: `${k} x ${watts} W given (an average draw; not scaled by utilisation)`,
      model: null, tdp_w: null, utilization: null, source: null, alternative_tdps: [], notes: [] });
  }
  if (memory > 0) {
    const power = memory * RAM_W_PER_GB;
    parts.push({ component: "ram", device: `${memory} GB`, count: 1, power_w: power, energy_kwh: power * hours / 1000, method: "model",
      uncertainty_rel: UNCERTAINTY_RAM, model: `${memory} GB`, source: "Green Algorithms",
      basis: `${memory} GB x ${RAM_W_PER_GB} W/GB (Green Algorithms), whatever the utilisation`, tdp_w: null, utilization: null, alternative_tdps: [], notes: [] });
  }
  if (parts.some((p) => p.method === "model" && p.component !== "ram")) {
    assumptions.push("modelled devices draw TDP x utilisation, as ML CO2 Impact and Green Algorithms compute it (no idle floor)" +
      (!given(i.utilization) && (!given(i.gpu_utilization) || !given(i.cpu_utilization)) ? "; utilisation 100% unless given, as both calculators assume" : ""));
  }
  const intensity = where(i.location, i.intensity, i.intensity_uncertainty_rel ?? 0);
  return priced(parts, duration, intensity, i.pue, i.wue, assumptions);
}

function priced(parts: EstimatedPart[], duration: number, intensity: Intensity, pue: number | undefined, wue: number | undefined, assumptions: string[]): Estimate {
  const energy = parts.reduce((s, p) => s + p.energy_kwh, 0);
  const uncertainty = energyUncertainty(parts);
  const fp: Footprint = account(energy, uncertainty, intensity, pue, wue);
  for (const part of parts) {
    assumptions.push(`${part.component}: ${part.basis}; ${part.method}, ±${pct(part.uncertainty_rel)}`);
    for (const note of part.notes) assumptions.push(`${part.component}: ${note}`);
  }
  assumptions.push(`PUE ${fp.pue}: ${fp.pue_source}`);
  assumptions.push(`grid intensity ${intensity.g_per_kwh} gCO2e/kWh ±${pct(intensity.uncertainty_rel)} (${intensity.zone_name}, ${intensity.zone}; ${intensity.source}${intensity.year !== null ? `, ${intensity.year}` : ""}; ${intensity.how_located})`);
  if (fp.wue_l_per_kwh !== null) assumptions.push(`WUE ${fp.wue_l_per_kwh} L/kWh: ${fp.wue_source}`);
  assumptions.push("uncertainty: components add in quadrature, then energy, PUE and intensity combine in quadrature (docs/estimate.md)");
  const hours = duration / 3600.0;
  return {
    duration_s: duration, hours, power_w: hours > 0 ? energy * 1000.0 / hours : parts.reduce((s, p) => s + p.power_w, 0),
    energy_kwh: energy, energy_uncertainty_rel: uncertainty, components: parts, facility_energy_kwh: fp.facility_energy_kwh,
    pue: fp.pue, pue_source: fp.pue_source, emissions_g: fp.emissions_g, emissions_uncertainty_rel: fp.emissions_uncertainty_rel,
    water_l: fp.water_l, wue_source: fp.wue_source,
    intensity: { g_per_kwh: intensity.g_per_kwh, zone: intensity.zone, zone_name: intensity.zone_name, source: intensity.source, year: intensity.year,
      kind: intensity.kind, how_located: intensity.how_located, uncertainty_rel: intensity.uncertainty_rel },
    location: intensity.how_located !== HOW_UNKNOWN ? intensity.zone : null, equivalents: equivalents(fp.emissions_g),
    assumptions, formula: FORMULA, notes: fp.notes,
  };
}
