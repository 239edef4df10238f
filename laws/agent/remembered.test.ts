// The stat cache in memory (a cache read back, under the entries changed since) behaves as one map
// from path to entry: after any restore, puts and drops, lookups, the count, the entries in key
// order, the large entries and the match against a listing are those of a plain map; and the path it
// names for an inode (a moved file's former path) always holds an entry with that inode.
import fc from "fast-check";
import { test } from "uvu";
import { compare, type ItemPath } from "../../core/ItemPath.ts";
import * as Remembered from "../../adapters/agent/Remembered.ts";
import * as StatCache from "../../adapters/agent/StatCache.ts";
import type { Cached } from "../../adapters/agent/StatCache.ts";
import { itemPath } from "../arbitraries.ts";
import { check } from "../property.ts";

/** Inode numbers used (few, so paths share them as hard links do, and entries are replaced by others with another). */
const inodes = 5;

const entryOf = (size: number, tag: number): Cached => ({
  key: `${size}:${tag}:${tag}:${tag % inodes}:33188`,
  readAt: tag,
  meta: { type: "file", size, mode: 420, mtimeMs: tag, digest: null, linkTarget: null },
  manifest: [],
});

const paths = fc.uniqueArray(itemPath, { minLength: 1, maxLength: 12 });
type Op = { readonly _tag: "set"; readonly at: number; readonly size: number } | { readonly _tag: "drop"; readonly at: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("set" as const), at: fc.nat(), size: fc.constantFrom(1, 5000) }),
  fc.record({ _tag: fc.constant("drop" as const), at: fc.nat() }),
);
interface Scenario {
  readonly paths: ReadonlyArray<ItemPath>;
  readonly stored: ReadonlyArray<readonly [number, number]>;
  readonly ops: ReadonlyArray<Op>;
  readonly listed: ReadonlyArray<boolean>;
}
const scenario: fc.Arbitrary<Scenario> = fc.record({
  paths,
  stored: fc.array(fc.tuple(fc.nat(), fc.constantFrom(1, 5000))),
  ops: fc.array(op, { maxLength: 20 }),
  listed: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
});

/** The same restore, puts and drops applied to the cache and to a plain map, and both compared. */
const actsAsAMap = ({ paths, stored, ops, listed }: Scenario): boolean => {
  const model = new Map<string, Cached>();
  for (const [at, size] of stored) model.set(paths[at % paths.length]!, entryOf(size, at));
  const cache = Remembered.make();
  cache.restore(StatCache.decode(StatCache.encode([...model])));
  // The inode index made before the changes (kept up to date by them), or after.
  if (ops.length % 2 === 0) cache.holderOf(0);
  ops.forEach((o, tag) => {
    const path = paths[o.at % paths.length]!;
    if (o._tag === "set") {
      const entry = entryOf(o.size, 1000 + tag);
      cache.set(path, entry);
      model.set(path, entry);
    } else if (cache.drop(path) !== model.delete(path)) throw new Error("drop disagrees");
  });
  const keyOf = (e: Cached | undefined) => e?.key;
  const sorted = [...model].sort((a, b) => compare(a[0], b[0]));
  const listing = [...paths].sort(compare).filter((_, i) => listed[i]);
  const { entryAt, listed: withEntry, gone } = cache.recall(listing);
  const holdsInode = (ino: number): boolean => {
    const holder = cache.holderOf(ino);
    return holder === undefined || StatCache.inodeOfKey(model.get(holder)?.key ?? "") === String(ino);
  };
  return (
    Array.from({ length: inodes }, (_, ino) => ino).every(holdsInode) &&
    paths.every((p) => keyOf(cache.get(p)) === keyOf(model.get(p))) &&
    cache.size() === model.size &&
    JSON.stringify([...cache.entries()].map(([p, e]) => [p, e.key])) === JSON.stringify(sorted.map(([p, e]) => [p, e.key])) &&
    JSON.stringify(cache.largerThan(1000).map(([p]) => p).sort(compare)) === JSON.stringify(sorted.filter(([, e]) => e.meta.size > 1000).map(([p]) => p)) &&
    listing.every((p, n) => keyOf(entryAt(n)) === keyOf(model.get(p))) &&
    withEntry === listing.filter((p) => model.has(p)).length &&
    JSON.stringify(gone.map(([p, e]) => [p, e.key])) === JSON.stringify(sorted.filter(([p]) => !listing.includes(p as ItemPath)).map(([p, e]) => [p, e.key]))
  );
};

test("the stat cache in memory acts as a map from path to entry", () => check(fc.property(scenario, actsAsAMap), 400));

test.run();
