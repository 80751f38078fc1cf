// Build: ESM and CommonJS (tsc) with type declarations, then the browser bundle (esbuild, one ESM file).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
rmSync(join(root, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
execFileSync(process.execPath, [tsc, "-p", "tsconfig.cjs.json"], { cwd: root, stdio: "inherit" });
writeFileSync(join(root, "dist", "cjs", "package.json"), '{"type": "commonjs"}\n');
const { buildSync } = await import("esbuild");
mkdirSync(join(root, "dist", "browser"), { recursive: true });
buildSync({
  entryPoints: [join(root, "src", "index.ts")], bundle: true, format: "esm", platform: "browser", target: "es2022",
  outfile: join(root, "dist", "browser", "wattprint.js"), logLevel: "warning",
});
