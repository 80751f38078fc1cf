// Build: ESM with type declarations (tsc), CommonJS (esbuild, file by file), and the browser bundles (esbuild: the
// client, and the calculator with its data, each one ESM file).
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });

const sources = readdirSync(src, { recursive: true }).filter((f) => f.endsWith(".ts")).map((f) => join(src, f));
buildSync({ entryPoints: sources, outdir: join(dist, "cjs"), outbase: src, format: "cjs", platform: "node", target: "node20", logLevel: "warning" });
cpSync(join(src, "data"), join(dist, "cjs", "data"), { recursive: true });
writeFileSync(join(dist, "cjs", "package.json"), '{"type": "commonjs"}\n');

// The static calculator page: its HTML and script beside the calculator bundle, a folder anyone can host.
cpSync(join(root, "calculator"), join(dist, "calculator"), { recursive: true });
for (const [entry, out] of [["index.ts", "wattprint.js"], ["calculator.ts", "calculator.js"]]) {
  buildSync({ entryPoints: [join(src, entry)], bundle: true, format: "esm", platform: "browser", target: "es2022",
    outfile: join(dist, "browser", out), logLevel: "warning" });
}
cpSync(join(dist, "browser", "calculator.js"), join(dist, "calculator", "calculator.js"));
