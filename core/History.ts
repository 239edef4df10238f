/**
 * History — the projection that keeps every version of every item, keyed by (path, sequence number),
 * and the point-in-time queries over it: an item's versions, and the tree as of a sequence number.
 *
 * @example
 * import * as History from "./History.ts";
 * const h = View.fold(History.view)(events);
 * History.versionsOf(h, "docs/a.txt")   // oldest first
 * History.treeAsOf(SortedMap.values(h.versions), 42)   // the items that existed after event 42
 *
 * @module
 */
import type * as Catalogue from "./Catalogue.ts";
import type * as Event from "./Event.ts";
import type { ItemMeta } from "./ItemMeta.ts";
import type { ItemPath } from "./ItemPath.ts";
import type * as Manifest from "./Manifest.ts";
import * as SortedMap from "./SortedMap.ts";
import type { View } from "./View.ts";

/** One version of an item: what it was after event `seq` (`meta` null = it was gone). @category models */
export interface Version {
  readonly path: ItemPath;
  readonly seq: number;
  readonly at: number;
  readonly kind: Event.Kind;
  readonly meta: ItemMeta | null;
  readonly manifest: Manifest.Manifest;
}

/** Sort key of a version: path, NUL, 16 hex digits of seq; sorts by path then seq in byte order. @category keys */
export const versionKey = (path: string, seq: number): string => `${path}\u0000${seq.toString(16).padStart(16, "0")}`;

/**
 * The versions one accepted event makes, given the catalogue updates it caused.
 *
 * @category projections
 */
export const versionsFor = (e: Event.Event, updates: ReadonlyArray<Catalogue.Update>): ReadonlyArray<Version> =>
  updates.map((u) => ({
    path: u.path,
    seq: e.seq,
    at: e.at,
    kind: e._tag,
    meta: u.entry?.meta ?? null,
    manifest: u.entry?.manifest ?? [],
  }));

/** All versions of one source. @category models */
export interface History {
  readonly head: number;
  readonly versions: SortedMap.SortedMap<Version>;
}

/** The empty history. @category constructors */
export const empty: History = { head: 0, versions: SortedMap.empty() };

/** Records versions for an event that is already known to be accepted. @category projections */
export const record = (h: History, e: Event.Event, updates: ReadonlyArray<Catalogue.Update>): History =>
  e.seq <= h.head
    ? h
    : {
      head: e.seq,
      versions: versionsFor(e, updates).reduce((m, v) => SortedMap.set(m, versionKey(v.path, v.seq), v), h.versions),
    };

/** The versions of one item, oldest first. @category queries */
export const versionsOf = (h: History, path: ItemPath): ReadonlyArray<Version> =>
  Array.from(SortedMap.entries(h.versions, { gte: `${path}\u0000`, lt: `${path}\u0001` }), ([, v]) => v);

/**
 * The items present after event `seq`, from all versions sorted by path then seq: for each path,
 * its last version at or before `seq`, if that version is not a removal. Streams; O(1) memory.
 *
 * @category queries
 */
export function* treeAsOf(sorted: Iterable<Version>, seq: number): Generator<Version> {
  let pending: Version | undefined;
  for (const v of sorted) {
    if (pending !== undefined && pending.path !== v.path) {
      if (pending.meta !== null) yield pending;
      pending = undefined;
    }
    if (v.seq <= seq) pending = v;
  }
  if (pending !== undefined && pending.meta !== null) yield pending;
}

/** The last event at or before a time, by binary search over (seq, at) pairs in seq order. @category queries */
export const seqAtTime = (heads: ReadonlyArray<{ readonly seq: number; readonly at: number }>, at: number): number => {
  let lo = 0;
  let hi = heads.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (heads[mid]!.at <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : heads[lo - 1]!.seq;
};
