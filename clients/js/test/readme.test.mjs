// The README's ```js examples run, in a folder of their own, against the real server the Python test started
// ("http://127.0.0.1:8000" in the text stands for it).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { adminToken, skip, url } from "./helpers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const blocks = [...readFileSync(join(root, "README.md"), "utf8").matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

describe("README examples", { skip }, () => {
  test("there are examples", () => assert.ok(blocks.length >= 5));
  blocks.forEach((code, index) => {
    test(`example ${index + 1}`, () => {
      // inside the package folder (so that @wattprint/client resolves), in a scratch folder of its own for files
      const dir = mkdtempSync(join(root, "test", ".readme-"));
      const file = join(dir, `example-${index + 1}.mjs`);
      writeFileSync(file, code.replaceAll("http://127.0.0.1:8000", url));
      try {
        const output = execFileSync(process.execPath, [file], { cwd: dir, env: { ...process.env, WATTPRINT_SERVER_TOKEN: adminToken }, encoding: "utf8" });
        assert.ok(output.trim().length > 0, "the example printed nothing");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
