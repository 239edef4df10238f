// The persisted stat cache: what is written is read back as it was (paths with tabs, newlines and
// any Unicode included), an entry read back and written again gives the same text without having
// been decoded, and text of another format reads as an empty cache.
import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as StatCache from "../../adapters/agent/StatCache.ts";
import type { Cached } from "../../adapters/agent/LocalTree.ts";
import { digest, itemPath } from "../arbitraries.ts";
import { check } from "../property.ts";

const lane = fc.nat({ max: 0xffffffff });
const hostileName = fc.constantFrom("tab\there", "new\nline", "semi;colon", "co:lon", "com,ma", "é中😀", " ");
const path = fc.oneof(itemPath, fc.tuple(itemPath, hostileName).map(([dir, name]) => `${dir}/${name}`));
const entry: fc.Arbitrary<Cached> = fc.record({
  key: fc.tuple(fc.nat(), fc.double({ min: 0, max: 2e12, noNaN: true }), fc.nat()).map(([size, mtime, ino]) => `${size}:${mtime}:${mtime}:${ino}:33188`),
  readAt: fc.nat(),
  meta: fc.record({ type: fc.constant("file" as const), size: fc.nat(), mode: fc.nat({ max: 0o7777 }), mtimeMs: fc.nat(), digest: fc.option(digest, { nil: null }), linkTarget: fc.constant(null) }),
  manifest: fc.array(fc.record({ digest, size: fc.nat() }), { maxLength: 4 }),
  print: fc.option(fc.tuple(lane, lane, lane, lane).map((lanes) => ({ count: 1, lanes })), { nil: undefined }),
});
const cache = fc.uniqueArray(fc.tuple(path, entry), { selector: ([p]) => p, maxLength: 20 });

const plain = (entries: ReadonlyArray<readonly [string, Cached]>) =>
  entries.map(([p, e]) => [p, { key: e.key, readAt: e.readAt, meta: e.meta, manifest: e.manifest, print: e.print }]);

/** Reading back what was written gives the same entries. */
const roundTrips = (entries: ReadonlyArray<readonly [string, Cached]>): boolean => {
  const back = StatCache.decode(StatCache.encode(entries));
  return JSON.stringify(plain(back)) === JSON.stringify(plain(entries));
};

/** Entries read back and written again, unused, give the same text. */
const rewritesUnchanged = (entries: ReadonlyArray<readonly [string, Cached]>): boolean => {
  const text = StatCache.encode(entries);
  return StatCache.encode(StatCache.decode(text)) === text;
};

test("a stat cache written and read back has the same entries", () => check(fc.property(cache, roundTrips), 300));
test("a stat cache read back and written again is the same text", () => check(fc.property(cache, rewritesUnchanged), 300));

test("text of another format (an older agent's JSON cache) reads as an empty cache", () => {
  assert.equal(StatCache.decode('[["a",{"key":"1:2:3:4:5"}]]'), []);
  assert.equal(StatCache.decode(""), []);
  const text = StatCache.encode([["a", { key: "1:2:3:4:5", readAt: 1, meta: { type: "file", size: 1, mode: 420, mtimeMs: 1, digest: null, linkTarget: null }, manifest: [] }]]);
  assert.equal(StatCache.decode(text.slice(0, -3)), [], "a cut record");
  assert.equal(StatCache.decode(text.replace("stat cache 3", "stat cache 2")), [], "version 2, whose keys held fractional milliseconds");
});

test.run();
