// The persisted stat cache: what is written is read back as it was (paths with tabs, newlines and
// any Unicode included), in key order and found by path; an entry read back and written again gives
// the same text without having been decoded; text of another format reads as an empty cache.
import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as StatCache from "../../adapters/agent/StatCache.ts";
import * as TreeScan from "../../adapters/agent/TreeScan.ts";
import type { Cached } from "../../adapters/agent/LocalTree.ts";
import { compare } from "../../core/ItemPath.ts";
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

const inKeyOrder = (entries: ReadonlyArray<readonly [string, Cached]>) => [...entries].sort((a, b) => compare(a[0], b[0]));

/** Reading back what was written gives the same entries, in key order. */
const roundTrips = (entries: ReadonlyArray<readonly [string, Cached]>): boolean => {
  const back = StatCache.entries(StatCache.decode(StatCache.encode(entries)));
  return JSON.stringify(plain(back)) === JSON.stringify(plain(inKeyOrder(entries)));
};

/** Entries read back and written again give the same text: unused, or with their fingerprints read (not learnt anew). */
const rewritesUnchanged = (entries: ReadonlyArray<readonly [string, Cached]>): boolean => {
  const text = StatCache.encode(entries);
  const used = StatCache.decode(text);
  const lanes = new Uint32Array(4);
  for (const [, e] of StatCache.entries(used)) void (e.print, StatCache.copyPrint(e, lanes, 0));
  return StatCache.encode(StatCache.entries(StatCache.decode(text))) === text && StatCache.encode(StatCache.entries(used)) === text;
};

/** Every entry read back is found by its path, and a path not written is not found. */
const foundByPath = (entries: ReadonlyArray<readonly [string, Cached]>, other: string): boolean => {
  const stored = StatCache.decode(StatCache.encode(entries));
  const found = entries.every(([p, e]) => {
    const i = StatCache.indexOf(stored, p);
    return i >= 0 && StatCache.pathAt(stored, i) === p && StatCache.entryAt(stored, i).key === e.key && StatCache.sizeAt(stored, i) === Number(e.key.split(":")[0]);
  });
  return found && (entries.some(([p]) => p === other) || StatCache.indexOf(stored, other) === -1);
};

/** Version 3's text written in another order (an older agent wrote entries in reading order) is read back in key order. */
const sortsOlderText = (entries: ReadonlyArray<readonly [string, Cached]>): boolean => {
  const sorted = StatCache.entries(StatCache.decode(StatCache.encode(entries)));
  const headerOnly = StatCache.encode([]);
  const reversed = "tidemark stat cache 3\n" + [...sorted].reverse().map((pair) => StatCache.encode([pair]).slice(headerOnly.length)).join("");
  const back = StatCache.decode(reversed);
  const paths = StatCache.entries(back).map(([p]) => p);
  return JSON.stringify(paths) === JSON.stringify(sorted.map(([p]) => p)) && paths.every((p, i) => StatCache.indexOf(back, p) === i);
};

/** A fingerprint learnt by an entry read back is written with it, and kept by every view of the entry. */
const keepsLearntPrint = (entries: ReadonlyArray<readonly [string, Cached]>): boolean => {
  const stored = StatCache.decode(StatCache.encode(entries.map(([p, e]) => [p, { ...e, print: undefined }] as const)));
  const print = { count: 1, lanes: [1, 2, 3, 0xffffffff] as [number, number, number, number] };
  for (let i = 0; i < StatCache.size(stored); i++) StatCache.entryAt(stored, i).print = print;
  const again = StatCache.decode(StatCache.encode(StatCache.entries(stored)));
  const same = (e: Cached) => JSON.stringify(e.print) === JSON.stringify(print);
  return StatCache.entries(again).every(([, e], i) => same(e) && same(StatCache.entryAt(stored, i)));
};

/** Stat data as `lstat` gives them: mostly whole microseconds, some odd (fractions, before 1970, inode numbers past 2^53). */
const statData: fc.Arbitrary<TreeScan.StatData> = fc.record({
  size: fc.oneof(fc.nat(), fc.constant(0)),
  mtimeMs: fc.oneof(fc.integer({ min: 0, max: 2e12 }).map((us) => us / 1000), fc.double({ min: -1e12, max: 4e12, noNaN: true })),
  ctimeMs: fc.integer({ min: 0, max: 2e12 }).map((us) => us / 1000),
  ino: fc.oneof(fc.nat(), fc.constant(2 ** 60 + 4096)),
  mode: fc.constantFrom(33188, 33261, 0o100600),
});
/** Stat data that differ from `st` in one field, or not at all. */
const nearby = (st: TreeScan.StatData) =>
  fc.constantFrom<TreeScan.StatData>(st, { ...st, size: st.size + 1 }, { ...st, mtimeMs: st.mtimeMs + 0.001 }, { ...st, ctimeMs: st.ctimeMs + 1 }, { ...st, ino: st.ino + 1 }, { ...st, mode: st.mode ^ 1 });

/** Comparing stat data field by field with an entry, read back or not, agrees with comparing their stat keys (a key with more written after it included). */
const statIsKeyIs = (remembered: TreeScan.StatData, now: TreeScan.StatData, e: Cached, extra: string): boolean => {
  const entry = { ...e, key: TreeScan.statKey(remembered) + extra };
  const expected = entry.key === TreeScan.statKey(now);
  const back = StatCache.entryAt(StatCache.decode(StatCache.encode([["a", entry]])), 0);
  return StatCache.statIs(entry, now) === expected && StatCache.statIs(back, now) === expected;
};

test("a stat cache written and read back has the same entries", () => check(fc.property(cache, roundTrips), 300));
test("a stat cache read back and written again, its fingerprints read or not, is the same text", () => check(fc.property(cache, rewritesUnchanged), 300));
test("an entry read back is found by its path", () => check(fc.property(cache, path, foundByPath), 300));
test("text in another order is read back in key order", () => check(fc.property(cache, sortsOlderText), 200));
test("a fingerprint learnt by an entry read back is kept and written", () => check(fc.property(cache, keepsLearntPrint), 200));

test("an entry's stat data compared field by field agree with its stat key", () =>
  check(fc.property(statData.chain((st) => fc.tuple(fc.constant(st), nearby(st))), entry, fc.constantFrom("", ":1", "0"), ([remembered, now], e, extra) => statIsKeyIs(remembered, now, e, extra)), 500));

test("text of another format (an older agent's JSON cache) reads as an empty cache", () => {
  assert.is(StatCache.size(StatCache.decode('[["a",{"key":"1:2:3:4:5"}]]')), 0);
  assert.is(StatCache.size(StatCache.decode("")), 0);
  const text = StatCache.encode([["a", { key: "1:2:3:4:5", readAt: 1, meta: { type: "file", size: 1, mode: 420, mtimeMs: 1, digest: null, linkTarget: null }, manifest: [] }]]);
  assert.is(StatCache.size(StatCache.decode(text)), 1);
  assert.is(StatCache.size(StatCache.decode(text.slice(0, -3))), 0, "a cut record");
  assert.ok(text.startsWith("tidemark stat cache 4\n"));
  assert.is(StatCache.size(StatCache.decode(text.replace("stat cache 4", "stat cache 3"))), 1, "version 3, the same records");
  assert.is(StatCache.size(StatCache.decode(text.replace("stat cache 4", "stat cache 2"))), 0, "version 2, whose keys held fractional milliseconds");
});

test.run();
