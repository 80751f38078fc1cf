// The package as a user installs it: every entry of the exports map loads through import and require (one class
// identity across entries), and its type declarations serve an ESM and a CommonJS TypeScript consumer.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const entries = Object.keys(pkg.exports).filter((e) => !["./package.json", "./browser"].includes(e));

test("every entry loads as ESM and as CommonJS", async () => {
  for (const entry of entries) {
    const name = `@wattprint/client${entry.slice(1)}`;
    const esm = await import(name);
    const cjs = require(name);
    assert.deepEqual(Object.keys(cjs).sort(), Object.keys(esm).filter((k) => k !== "default").sort(), name);
  }
  assert.equal(require("@wattprint/client/node").ProblemError, require("@wattprint/client").ProblemError);
  assert.equal(pkg.dependencies, undefined, "no runtime dependencies");
});

test("type declarations serve ESM and CommonJS consumers", () => {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-consumer-"));
  try {
    mkdirSync(join(dir, "node_modules", "@wattprint"), { recursive: true });
    symlinkSync(root, join(dir, "node_modules", "@wattprint", "client"), "dir");
    writeFileSync(join(dir, "esm.mts"), `import { WattprintClient, ProblemError, type RunRecord } from "@wattprint/client";
import { track, FileQueue } from "@wattprint/client/node";
import { estimate, compareRegions } from "@wattprint/client/calculator";
import { readCodecarbonCsv } from "@wattprint/client/codecarbon";
const client = new WattprintClient({ url: "http://127.0.0.1:8000" });
export async function use(): Promise<number> {
  const page = await client.listRuns({ project: "p", limit: 10 });
  const first: RunRecord | undefined = page.items[0];
  const e: number = estimate({ gpu: "T4", hours: 1 }).emissions_g + compareRegions({ energy_kwh: 1 }).regions[0].emissions_g;
  void track; void FileQueue; void readCodecarbonCsv; void ProblemError;
  return (first?.energy_j ?? 0) + e;
}
`);
    writeFileSync(join(dir, "cjs.cts"), `import { WattprintClient } from "@wattprint/client";
import { estimate } from "@wattprint/client/calculator";
export const client = new WattprintClient("http://127.0.0.1:8000");
export const grams: number = estimate({ power_w: 100, hours: 1 }).emissions_g;
`);
    writeFileSync(join(dir, "bad.mts"), `import { estimate } from "@wattprint/client/calculator";
export const wrong: string = estimate({ hours: 1 }).emissions_g;
`);
    const tsc = [join(root, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "--strict", "--module", "nodenext",
      "--moduleResolution", "nodenext", "--types", "node", "--typeRoots", join(root, "node_modules", "@types")];
    execFileSync(process.execPath, [...tsc, "esm.mts", "cjs.cts"], { cwd: dir, encoding: "utf8" });
    // and the declarations do type-check: a wrong use is refused
    assert.throws(() => execFileSync(process.execPath, [...tsc, "bad.mts"], { cwd: dir, encoding: "utf8", stdio: "pipe" }),
      (error) => /not assignable to type 'string'/.test(String(error.stdout)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
