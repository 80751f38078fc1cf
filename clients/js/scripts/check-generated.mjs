// Fails when src/generated/openapi.ts is not what openapi-typescript makes from docs/api/openapi.json now
// (the schema changed: run `npm run generate` and commit the result).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const schema = pathToFileURL(join(root, "..", "..", "docs", "api", "openapi.json"));
const made = astToString(await openapiTS(schema));
const committed = readFileSync(join(root, "src", "generated", "openapi.ts"), "utf8");
const body = (text) => text.replace(/^\/\*\*[\s\S]*?\*\/\s*/, "").trim();
if (body(made) !== body(committed)) {
  console.error("src/generated/openapi.ts differs from what docs/api/openapi.json gives now: run `npm run generate` in clients/js and commit it");
  process.exit(1);
}
console.log("src/generated/openapi.ts matches docs/api/openapi.json");
