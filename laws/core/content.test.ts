import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Chunking from "../../core/Chunking.ts";
import * as Manifest from "../../core/Manifest.ts";
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

/** An edit of some bytes: an insertion, a deletion, an overwrite, an append or a truncation. */
const edit = fc.tuple(fc.constantFrom("insert", "delete", "overwrite", "append", "truncate"), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 700 }));
const applyEdit = (b: Uint8Array, [kind, n, piece]: readonly [string, number, Uint8Array]): Uint8Array => {
  const at = n % (b.length + 1);
  switch (kind) {
    case "insert":
      return new Uint8Array([...b.subarray(0, at), ...piece, ...b.subarray(at)]);
    case "delete":
      return new Uint8Array([...b.subarray(0, at), ...b.subarray(at + piece.length)]);
    case "overwrite":
      return new Uint8Array([...b.subarray(0, at), ...piece, ...b.subarray(at + piece.length)]);
    case "append":
      return new Uint8Array([...b, ...piece]);
    default:
      return b.subarray(0, at);
  }
};

test("chunking guided by the earlier version's manifest equals chunking from scratch, whatever the edits", () =>
  check(fc.property(data, fc.array(edit, { maxLength: 4 }), (b, edits) => manifestLaws.rebuildEqualsBuild(b, edits.reduce(applyEdit, b), params))));
test("chunking guided by an unrelated version's manifest equals chunking from scratch", () =>
  check(fc.property(data, data, (a, b) => manifestLaws.rebuildEqualsBuild(a, b, params) && manifestLaws.rebuildEqualsBuild(b, b, params))));

test("chunking guided through a small window, some chunks' places told instead of hashed, equals chunking from scratch", () =>
  check(fc.property(data, fc.array(edit, { maxLength: 4 }), fc.func(fc.boolean()), (b, edits, vouched) =>
    manifestLaws.rebuildFromWindowEqualsBuild(b, edits.reduce(applyEdit, b), params, vouched))));

test("a version whose chunks are all told kept is neither read nor hashed", () => {
  const earlier = noise(20_000, 7);
  const previous = Manifest.build(earlier, params, sha256).manifest;
  let touched = 0;
  const source: Manifest.Source = { size: earlier.length, bytes: (f, t) => (touched++, earlier.subarray(f, t)), known: () => true };
  const manifest = Manifest.rebuildFrom(source, previous, params, (b) => (touched++, sha256(b)));
  assert.equal(manifest, previous);
  assert.is(touched, 0);
});

/** Deterministic high-entropy bytes (an LCG's top byte). */
const noise = (length: number, seed: number): Uint8Array => {
  let x = seed;
  return new Uint8Array(length).map(() => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24));
};

test("on random data a one-byte edit changes about one or two chunks", () => {
  const bytes = noise(256 * 1024, 7);
  let fresh = 0;
  const edits = 200;
  for (let i = 0; i < edits; i++) {
    const edited = bytes.slice();
    const at = (i * 7919 * 31) % bytes.length;
    edited[at] = (edited[at]! + 1) & 0xff;
    const old = Manifest.digests(Manifest.build(bytes, params, sha256).manifest);
    fresh += Manifest.build(edited, params, sha256).manifest.filter((c) => !old.has(c.digest)).length;
  }
  assert.ok(fresh / edits <= 2.5, `${fresh / edits} new chunks per edit`);
});

test("cut points never change: stored manifests and delta signatures depend on them", () => {
  const bytes = noise(1 << 20, 42);
  assert.equal(Chunking.cutPoints(bytes, Chunking.defaultParams), [
    44846, 90310, 98873, 132835, 193811, 232237, 262227, 300845, 349664, 401639, 443601, 504226, 542800, 589153,
    619928, 635904, 685619, 737063, 785458, 808316, 867037, 886025, 910926, 954072, 979322, 1026989, 1048576,
  ]);
  assert.equal(Chunking.cutPoints(bytes.subarray(0, 16384), { min: 128, avg: 512, max: 2048 }), [
    525, 1013, 1534, 2224, 3496, 4132, 4512, 5536, 6215, 6764, 7430, 7629, 8237, 9442, 10283, 11114, 11462, 12090,
    12894, 13437, 13961, 14245, 14788, 15610, 16310, 16384,
  ]);
  // The minimum at the average: the easier mask from the first byte searched.
  assert.equal(Chunking.cutPoints(bytes.subarray(0, 16384), { min: 512, avg: 512, max: 2048 }), [
    521, 1534, 2224, 3496, 4132, 4890, 5429, 6047, 6764, 7430, 8026, 8728, 9442, 10283, 11114, 12090, 12894, 13645,
    14175, 14788, 15610, 16310, 16384,
  ]);
});

test("default chunk sizes average near 32 KiB", () => {
  const bytes = noise(8 * 1024 * 1024, 1);
  const cuts = Chunking.cutPoints(bytes, Chunking.defaultParams);
  const avg = bytes.length / cuts.length;
  assert.ok(avg > 20 * 1024 && avg < 48 * 1024, `average ${avg}`);
});

test.run();
