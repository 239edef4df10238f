// The core's fence: it imports only fp-ts, io-ts and its own files, and touches no runtime, clock or randomness.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";

const coreDir = fileURLToPath(new URL("../core", import.meta.url));
const files = readdirSync(coreDir).filter((f) => f.endsWith(".ts"));
const forbidden = [/\bprocess\./, /\bBuffer\b/, /\bDeno\./, /Date\.now/, /new Date\(/, /Math\.random/, /\bsetTimeout\b/, /\bsetInterval\b/, /\brequire\(/];

test("core has modules to check", () => assert.ok(files.length > 10));

for (const file of files) {
  test(`core/${file} imports only fp-ts, io-ts and ./`, () => {
    const text = readFileSync(join(coreDir, file), "utf8");
    for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+["']([^"']+)["']/gm)) {
      const spec = m[1]!;
      assert.ok(spec.startsWith("./") || spec.startsWith("fp-ts/") || spec === "io-ts", `${file} imports ${spec}`);
    }
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    for (const pattern of forbidden) assert.not.ok(pattern.test(code), `${file} uses ${pattern}`);
  });
}

test.run();
