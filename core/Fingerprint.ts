/**
 * Fingerprint — combinable fingerprints of key ranges of a catalogue, for reconciliation.
 *
 * Each item hashes (path and metadata) to 128 bits, read as four 32-bit lanes; a range's fingerprint
 * is the item count plus the lane-wise sum modulo 2^32 of its items. Addition is associative and
 * commutative, so the fingerprint of a range equals the combination of the fingerprints of any split
 * of it: two sides compare a range with one message and descend only into the parts that differ.
 *
 * @example
 * import * as Fingerprint from "./Fingerprint.ts";
 * const fp = Fingerprint.ofItems(sha256, entries);           // { count, lanes }
 * Fingerprint.equals(fp, Fingerprint.combine(left, right))   // true when left ++ right = entries
 *
 * @module
 */
import * as t from "io-ts";
import { Count } from "./Codecs.ts";
import type { HashFunction } from "./Digest.ts";
import { compare } from "./ItemPath.ts";
import type { ItemMeta } from "./ItemMeta.ts";

/** A range's fingerprint. @category models */
export const Fingerprint = t.type({
  count: Count,
  lanes: t.tuple([Count, Count, Count, Count]),
});
export type Fingerprint = t.TypeOf<typeof Fingerprint>;

/** The fingerprint of the empty range (the identity of `combine`). @category constructors */
export const empty: Fingerprint = { count: 0, lanes: [0, 0, 0, 0] };

const utf8 = new TextEncoder();

/** The text an item's fingerprint is computed from: everything a restore would reproduce. */
const describeItem = (path: string, meta: ItemMeta): string =>
  [path, meta.type, meta.size, meta.mode, meta.mtimeMs, meta.digest ?? "", meta.linkTarget ?? ""].join("\u0000");

/** One item's fingerprint. @category constructors */
export const ofItem = (hash: HashFunction, path: string, meta: ItemMeta): Fingerprint => fromItemHash(itemHash(hash, path, meta));

/**
 * The 16 bytes an item contributes to fingerprints, for an index that keeps them (the store's, so
 * a range fingerprint needs no re-hashing).
 *
 * @category constructors
 */
export const itemHash = (hash: HashFunction, path: string, meta: ItemMeta): Uint8Array => hash(utf8.encode(describeItem(path, meta))).slice(0, 16);

/** An item's fingerprint from its 16 bytes (`itemHash`). @category constructors */
export const fromItemHash = (h: Uint8Array): Fingerprint => {
  const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
  return { count: 1, lanes: [view.getUint32(0), view.getUint32(4), view.getUint32(8), view.getUint32(12)] };
};

/**
 * Writes a fingerprint's four lanes into `into` at `at` (fingerprints kept by the hundred thousand
 * as lanes in one typed array rather than as objects).
 *
 * @example
 * const lanes = new Uint32Array(4 * n);
 * Fingerprint.copyLanes(print, lanes, 4 * i);
 * @category destructors
 */
export const copyLanes = (print: Fingerprint, into: Uint32Array, at: number): void => {
  for (let l = 0; l < 4; l++) into[at + l] = print.lanes[l]!;
};

/** The fingerprint of two adjacent (or any disjoint) ranges together. @category combinators */
export const combine = (a: Fingerprint, b: Fingerprint): Fingerprint => ({
  count: a.count + b.count,
  lanes: [
    (a.lanes[0] + b.lanes[0]) >>> 0,
    (a.lanes[1] + b.lanes[1]) >>> 0,
    (a.lanes[2] + b.lanes[2]) >>> 0,
    (a.lanes[3] + b.lanes[3]) >>> 0,
  ],
});

/**
 * The combination of `prints[from…to-1]` (absent ones skipped), summed in place: a range of a whole
 * tree combines a hundred thousand of them, and `combine` allocates one fingerprint each.
 *
 * @example
 * Fingerprint.sum([a, null, b]) // equals combine(a, b)
 *
 * @category combinators
 */
export const sum = (prints: ReadonlyArray<Fingerprint | null | undefined>, from = 0, to = prints.length): Fingerprint => {
  let count = 0;
  const lanes: [number, number, number, number] = [0, 0, 0, 0];
  for (let n = from; n < to; n++) {
    const print = prints[n];
    if (print == null) continue;
    count += print.count;
    for (let l = 0; l < 4; l++) lanes[l] = (lanes[l]! + print.lanes[l]!) >>> 0;
  }
  return { count, lanes };
};

/**
 * The fingerprint of `whole` without a part of it (`part` must be a sub-range of `whole`): with
 * prefix sums over a sorted listing, any range's fingerprint is one subtraction.
 *
 * @category combinators
 */
export const subtract = (whole: Fingerprint, part: Fingerprint): Fingerprint => ({
  count: whole.count - part.count,
  lanes: [
    (whole.lanes[0] - part.lanes[0]) >>> 0,
    (whole.lanes[1] - part.lanes[1]) >>> 0,
    (whole.lanes[2] - part.lanes[2]) >>> 0,
    (whole.lanes[3] - part.lanes[3]) >>> 0,
  ],
});

/** The fingerprint of a list of items. @category constructors */
export const ofItems = (hash: HashFunction, items: Iterable<readonly [string, ItemMeta]>): Fingerprint => {
  let fp = empty;
  for (const [path, meta] of items) fp = combine(fp, ofItem(hash, path, meta));
  return fp;
};

/** Same count and lanes. @category equivalence */
export const equals = (a: Fingerprint, b: Fingerprint): boolean =>
  a.count === b.count && a.lanes.every((x, i) => x === b.lanes[i]);

/** A half-open key range `[gte, lt)`; `lt: null` is unbounded above, `gte: ""` is the start. @category models */
export const KeyRange = t.type({ gte: t.string, lt: t.union([t.string, t.null]) });
export type KeyRange = t.TypeOf<typeof KeyRange>;

/** The whole key space. @category constructors */
export const everything: KeyRange = { gte: "", lt: null };

/** True when `key` lies in `range`. @category guards */
export const contains = (range: KeyRange, key: string): boolean =>
  compare(key, range.gte) >= 0 && (range.lt === null || compare(key, range.lt) < 0);

/**
 * Splits a range into at most `parts` adjacent sub-ranges with about equal numbers of the given
 * keys (sorted, all inside the range). The sub-ranges cover the range exactly.
 *
 * @example
 * split({ gte: "", lt: null }, ["a", "b", "c", "d"], 2)
 * // [{ gte: "", lt: "c" }, { gte: "c", lt: null }]
 * @category combinators
 */
export const split = (range: KeyRange, keys: ReadonlyArray<string>, parts: number): ReadonlyArray<KeyRange> => {
  const n = Math.max(1, Math.min(parts, keys.length));
  const bounds: Array<string> = [];
  for (let i = 1; i < n; i++) {
    const key = keys[Math.floor((i * keys.length) / n)]!;
    if (compare(key, bounds[bounds.length - 1] ?? range.gte) > 0) bounds.push(key);
  }
  const starts = [range.gte, ...bounds];
  return starts.map((gte, i) => ({ gte, lt: bounds[i] ?? range.lt }));
};
