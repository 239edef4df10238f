import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Chunking from "../../core/Chunking.ts";
import { check } from "../property.ts";
import { chunkingLaws, manifestLaws } from "./laws.ts";

const params = { min: 64, avg: 256, max: 1024 };
const data = fc.uint8Array({ minLength: 0, maxLength: 16 * 1024 });

test("chunking is deterministic and respects min/max", () => check(fc.property(data, (b) => chunkingLaws.isDeterministic(b, params))));
test("a local edit changes only the chunks around it", () =>
  check(fc.property(fc.uint8Array({ minLength: 4096, maxLength: 16 * 1024 }), fc.nat(), (b, i) => chunkingLaws.localEditIsLocal(b, i % b.length, params))));
test("manifest diff then apply reproduces the target", () =>
  check(fc.property(data, data, fc.nat(), (old, insert, at) => {
    const cut = at % (old.length + 1);
    const target = new Uint8Array([...old.subarray(0, cut), ...insert.subarray(0, 100), ...old.subarray(cut)]);
    return manifestLaws.diffThenApplyReproduces(old, target, params) && manifestLaws.diffThenApplyReproduces(target, old, params);
  })));

test("default chunk sizes average near 32 KiB", () => {
  let x = 1;
  const bytes = new Uint8Array(8 * 1024 * 1024).map(() => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24));
  const cuts = Chunking.cutPoints(bytes, Chunking.defaultParams);
  const avg = bytes.length / cuts.length;
  assert.ok(avg > 20 * 1024 && avg < 48 * 1024, `average ${avg}`);
});

test.run();
