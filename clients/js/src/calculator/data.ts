/** The calculator's embedded tables (src/data/calculator-data.json, exported by scripts/build_data.py from the same
 * tables as the Python package, each row with its source and licence) and the look-ups over them. */
import raw from "../data/calculator-data.json" with { type: "json" };

type Table = { columns: string[]; rows: unknown[][] };

function rows<T>(table: Table): T[] {
  return table.rows.map((row) => Object.fromEntries(table.columns.map((c, i) => [c, row[i]])) as T);
}

export interface IntensityRow {
  key: string; kind: string; name: string; country: string | null; continent: string | null;
  intensity_g_per_kwh: number; year: number | null; basis: string; source: string; licence: string;
  aliases: string | null; provider: string | null; region: string | null; zone: string | null;
  grid_factor: string | null; cfe_fraction: number | null;
}
export interface GpuRow { key: string; name: string; kind: string; tdp_w: number; memory_gb: number | null; form: string | null; source: string; licence: string }
export interface CpuRow { key: string; name: string; tdp_w: number; cores: number | null; source: string; licence: string; note: string | null }
export interface EfficiencyRow { provider: string; metric: string; region: string | null; value: number; year: number | null; is_default: boolean; scope: string; confidence: string; source: string; licence: string }
export interface EquivalenceRow { key: string; g_co2e_per_unit: number; unit: string; vintage: string; status: string; source: string; licence: string }

const tables = (raw as unknown as { tables: Record<string, Table> }).tables;
/** ATTRIBUTION.md of the embedded data: every dataset, its version, licence and attribution. */
export const attribution: string = (raw as unknown as { attribution: string }).attribution;

let cache: {
  intensity: IntensityRow[]; byKey: Map<string, IntensityRow>; gpus: GpuRow[]; cpus: CpuRow[];
  efficiency: EfficiencyRow[]; equivalences: Map<string, EquivalenceRow>;
} | undefined;

export const CLOUD_PROVIDERS = new Set(["gcp", "aws", "azure", "ovh", "scaleway", "coreweave", "seeweb"]);
const PROVIDER_SYNONYMS: Record<string, string> = { google: "gcp", googlecloud: "gcp", gce: "gcp", amazon: "aws", ec2: "aws", microsoft: "azure", ovhcloud: "ovh" };

/** The case-insensitive form a location key or alias is indexed under (as Python's `canonical_location_key`). */
export function canonicalLocationKey(key: string): string {
  const s = key.trim();
  const colon = s.indexOf(":");
  if (colon < 0) return s.toLowerCase();
  let prefix = s.slice(0, colon).trim().toLowerCase();
  prefix = PROVIDER_SYNONYMS[prefix] ?? prefix;
  let rest = s.slice(colon + 1).trim();
  if (CLOUD_PROVIDERS.has(prefix)) rest = rest.replace(/[\s_]+/g, "");
  return `${prefix}:${rest.toLowerCase()}`;
}

export function data() {
  if (!cache) {
    const intensity = rows<IntensityRow>(tables.intensity);
    const byKey = new Map<string, IntensityRow>();
    for (const row of intensity) {
      for (const name of [row.key, ...(row.aliases ?? "").split(";").filter(Boolean)]) byKey.set(canonicalLocationKey(name), row);
    }
    cache = {
      intensity, byKey, gpus: rows<GpuRow>(tables.gpu), cpus: rows<CpuRow>(tables.cpu),
      efficiency: rows<EfficiencyRow>(tables.pue_wue),
      equivalences: new Map(rows<EquivalenceRow>(tables.equivalences).map((r) => [r.key, r])),
    };
  }
  return cache;
}

/** The intensity row of a location key or alias (`FR`, `FRA`, `US-CA`, `gcp:europe-west1`), or undefined. */
export function lookupIntensity(key: string): IntensityRow | undefined {
  if (!key || !key.trim()) return undefined;
  return data().byKey.get(canonicalLocationKey(key));
}

/** Every cloud-region row, optionally of one provider. */
export function cloudRegions(provider?: string): IntensityRow[] {
  const all = data().intensity.filter((r) => r.kind === "cloud-region");
  if (provider === undefined) return all;
  const wanted = canonicalLocationKey(`${provider}:x`).split(":")[0];
  return all.filter((r) => r.provider === wanted);
}

const PROVIDER_ALIASES: Record<string, string> = {
  google: "gcp", googlecloud: "gcp", gce: "gcp", amazon: "aws", microsoft: "azure", ovhcloud: "ovh", oci: "oracle",
  industry: "unknown", "on-premises": "unknown", "on-prem": "unknown", onprem: "unknown", local: "unknown", "": "unknown",
};
function providerKey(name: string | null | undefined): string {
  const key = (name ?? "").trim().toLowerCase().replace(/ /g, "");
  return PROVIDER_ALIASES[key] ?? key;
}

/** The PUE figure used for a provider (and region): regional default, else the provider's, else the industry's. */
export function defaultPue(provider: string | null | undefined, region: string | null | undefined): EfficiencyRow {
  const key = providerKey(provider);
  const pue = data().efficiency.filter((r) => r.metric === "PUE");
  if (region) {
    const wanted = region.trim().toLowerCase();
    const hit = pue.find((r) => r.provider === key && r.is_default && r.region && r.region.toLowerCase() === wanted);
    if (hit) return hit;
  }
  for (const wantedProvider of [key, "unknown"]) {
    const hit = pue.find((r) => r.provider === wantedProvider && r.is_default && r.region === null);
    if (hit) return hit;
  }
  throw new Error("the calculator's data has no default PUE; rebuild it with scripts/build_data.py");
}

/** The WUE figure used for a provider, or undefined (none is assumed where none is published). */
export function defaultWue(provider: string | null | undefined): EfficiencyRow | undefined {
  const key = providerKey(provider);
  return data().efficiency.find((r) => r.metric === "WUE" && r.provider === key && r.is_default && r.region === null);
}

const fold = (s: string) => s.trim().toLowerCase().replace(/\s+/g, " ");

/** A GPU row by its table name or key (case and spacing ignored); names matching rows of different TDPs are
 * ambiguous and answer undefined. Python's look-up also understands looser spellings ("Tesla T4", "a100-sxm4"). */
export function lookupGpu(name: string): GpuRow | undefined {
  const wanted = fold(name);
  const hits = data().gpus.filter((g) => fold(g.name) === wanted || fold(g.key) === wanted);
  return new Set(hits.map((h) => h.tdp_w)).size === 1 ? hits[0] : undefined;
}

/** A CPU row by its table name or key (case and spacing ignored); rows of different TDPs under one name answer undefined. */
export function lookupCpu(name: string): CpuRow | undefined {
  const wanted = fold(name);
  const hits = data().cpus.filter((c) => fold(c.name) === wanted || fold(c.key) === wanted);
  return new Set(hits.map((h) => h.tdp_w)).size === 1 ? hits[0] : undefined;
}

const OTHER_SOURCE = /([A-Z][A-Za-z0-9 .&-]*?) gives (\d+(?:\.\d+)?) W/g;
/** `{source, tdp_w}` of each other source that gives a CPU another TDP (from the table's note). */
export function cpuAlternatives(row: CpuRow): { source: string; tdp_w: number }[] {
  return [...(row.note ?? "").matchAll(OTHER_SOURCE)].map((m) => ({ source: m[1], tdp_w: Number(m[2]) }));
}

export function equivalenceRow(key: string): EquivalenceRow {
  const row = data().equivalences.get(key);
  if (!row) throw new Error(`the calculator's data has no equivalence ${key}; rebuild it with scripts/build_data.py`);
  return row;
}
