// The JavaScript calculator on inputs Python generated: node parity.mjs INPUTS.json OUT.json
// INPUTS: [{"kind": "estimate" | "compare", "input": {...}}]; OUT: [{"result": ...} | {"error": "..."}], in order.
import { readFileSync, writeFileSync } from "node:fs";
import { compareRegions, estimate } from "@wattprint/client/calculator";

const [inputs, out] = process.argv.slice(2);
const results = JSON.parse(readFileSync(inputs, "utf8")).map(({ kind, input }) => {
  try {
    return { result: kind === "estimate" ? estimate(input) : compareRegions(input) };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
});
writeFileSync(out, JSON.stringify(results));
