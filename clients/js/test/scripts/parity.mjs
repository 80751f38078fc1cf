// The JavaScript calculator on inputs Python generated: node parity.mjs INPUTS.json OUT.json
// INPUTS: [{"kind": "estimate" | "compare" | "cpu" | "gpu", "input": {...} or a model name}]; OUT: [{"result": ...} | {"error": "..."}], in order.
import { readFileSync, writeFileSync } from "node:fs";
import { compareRegions, estimate, lookupCpu, lookupGpu } from "@wattprint/client/calculator";

const [inputs, out] = process.argv.slice(2);
const results = JSON.parse(readFileSync(inputs, "utf8")).map(({ kind, input }) => {
  try {
    if (kind === "cpu" || kind === "gpu") {
      const spec = (kind === "cpu" ? lookupCpu : lookupGpu)(input);
      return { result: spec ? { name: spec.name, tdp_w: spec.tdp_w, cores: spec.cores ?? null } : null };
    }
    return { result: kind === "estimate" ? estimate(input) : compareRegions(input) };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
});
writeFileSync(out, JSON.stringify(results));
