// node codecarbon.mjs EMISSIONS.csv OUT.json: the JS reading of a CodeCarbon file (RunDocuments, or {"error"}).
import { readFileSync, writeFileSync } from "node:fs";
import { readCodecarbonCsv } from "@wattprint/client/codecarbon";

const [file, out] = process.argv.slice(2);
try {
  writeFileSync(out, JSON.stringify(await readCodecarbonCsv(readFileSync(file, "utf8"), file)));
} catch (error) {
  writeFileSync(out, JSON.stringify({ error: error.message, name: error.name }));
}
