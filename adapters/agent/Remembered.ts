/**
 * Remembered — the stat cache in memory: the cache read back at start (`StatCache.Stored`, left as
 * its text) under the entries changed since (files read again, or gone). A start of a tree of
 * 100,000 files puts no entry in a map: only what changes does.
 *
 * @example
 * const cache = Remembered.make();
 * cache.restore(StatCache.decode(text));
 * cache.get("docs/a.txt");                 // the entry read back, or a newer one, or undefined
 * cache.set("docs/a.txt", entry);
 * cache.holderOf(4711);                    // "docs/a.txt" when that entry's inode is 4711
 * cache.holdersOf(4711);                   // ["docs/a.txt", "b.txt"] when b.txt is a hard link to it
 * const { entryAt, gone } = cache.recall(listing);   // by listing index; those the listing lacks
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as ItemPath from "../../core/ItemPath.ts";
import * as StatCache from "./StatCache.ts";

/** The stat cache in memory. */
export type Remembered = ReturnType<typeof make>;

/**
 * An empty cache.
 *
 * @category constructors
 */
export const make = () => {
  let stored = StatCache.empty;
  /** Entries changed since the stored cache was read, by path; `null` where a stored entry was dropped. */
  const changed = new Map<string, StatCache.Cached | null>();
  let count = 0;
  /** Which path holds each inode (`StatCache.inodeOfKey`), made the first time one is asked for; checked against the entry on use. */
  let byInode: Map<string, string> | undefined;
  /** Every path seen with an inode while another path held it too (hard links), beside `byInode`. */
  const shared = new Map<string, Set<string>>();
  const index = (inode: string, path: string): void => {
    const had = byInode!.get(inode);
    const paths = shared.get(inode);
    if (paths !== undefined) paths.add(path);
    else if (had !== undefined && had !== path && holds(had, inode)) shared.set(inode, new Set([had, path]));
    byInode!.set(inode, path);
  };

  /** Takes `path` out of the set of paths sharing its entry's inode, so the sets hold only entries there are. */
  const unshare = (path: string): void => {
    if (shared.size === 0) return;
    const entry = get(path);
    const inode = entry === undefined ? undefined : StatCache.inodeOfKey(entry.key);
    const paths = inode === undefined ? undefined : shared.get(inode);
    if (paths === undefined) return;
    paths.delete(path);
    if (paths.size > 1) return;
    shared.delete(inode!);
    // The one left is the holder `byInode` names.
    for (const left of paths) byInode!.set(inode!, left);
  };

  const get = (path: string): StatCache.Cached | undefined => {
    const entry = changed.get(path);
    if (entry !== undefined) return entry ?? undefined;
    const i = StatCache.indexOf(stored, path);
    return i < 0 ? undefined : StatCache.entryAt(stored, i);
  };

  /** Whether `path` has an entry now, without making one for a stored entry. */
  const has = (path: string): boolean => {
    const entry = changed.get(path);
    return entry !== undefined ? entry !== null : StatCache.indexOf(stored, path) >= 0;
  };

  /** Adds or replaces the entry for `path`. */
  const set = (path: string, entry: StatCache.Cached): void => {
    if (!has(path)) count++;
    else unshare(path);
    changed.set(path, entry);
    if (byInode !== undefined) index(StatCache.inodeOfKey(entry.key), path);
  };

  /** Drops the entry for `path`; false when there was none. */
  const drop = (path: string): boolean => {
    const entry = changed.get(path);
    if (entry === null) return false;
    const isStored = StatCache.indexOf(stored, path) >= 0;
    if (entry === undefined && !isStored) return false;
    unshare(path);
    count--;
    if (isStored) changed.set(path, null);
    else changed.delete(path);
    return true;
  };

  /** Replaces every entry with those of a cache read back. */
  const restore = (s: StatCache.Stored): void => {
    stored = s;
    changed.clear();
    count = StatCache.size(s);
    byInode = undefined;
    shared.clear();
  };

  /**
   * The path whose entry has this inode number (of the entries now held; with hard links, one of
   * them), or undefined. The first call indexes every entry (~10 ms at 100,000).
   */
  const holderOf = (inode: number): string | undefined => {
    const path = inodes().get(String(inode));
    return path !== undefined && holds(path, String(inode)) ? path : undefined;
  };

  /**
   * Every path whose entry has this inode number (hard links: names of one file), in no set order.
   * Indexed as `holderOf` is.
   */
  const holdersOf = (inode: number): ReadonlyArray<string> => {
    const key = String(inode);
    inodes();
    const seen = shared.get(key);
    if (seen === undefined) return [holderOf(inode)].filter((p): p is string => p !== undefined);
    const now = [...seen].filter((p) => holds(p, key));
    if (now.length > 1) shared.set(key, new Set(now));
    else {
      shared.delete(key);
      if (now.length === 1) byInode!.set(key, now[0]!);
    }
    return now;
  };

  const inodes = (): Map<string, string> => {
    if (byInode === undefined) {
      byInode = new Map();
      for (let i = 0; i < StatCache.size(stored); i++) index(StatCache.inodeAt(stored, i), StatCache.pathAt(stored, i));
      for (const [path, entry] of changed) if (entry !== null) index(StatCache.inodeOfKey(entry.key), path);
    }
    return byInode;
  };
  /** Whether the entry of `path` has this inode now. */
  const holds = (path: string, inode: string): boolean => {
    const entry = get(path);
    return entry !== undefined && StatCache.inodeOfKey(entry.key) === inode;
  };

  /** Every entry, in key order. */
  function* entries(): Generator<readonly [string, StatCache.Cached]> {
    const newer = [...changed].filter((e): e is [string, StatCache.Cached] => e[1] !== null).sort((a, b) => ItemPath.compare(a[0], b[0]));
    let n = 0;
    for (let i = 0; i < StatCache.size(stored); i++) {
      const path = StatCache.pathAt(stored, i);
      for (; n < newer.length && ItemPath.compare(newer[n]![0], path) < 0; n++) yield newer[n]!;
      if (!changed.has(path)) yield [path, StatCache.entryAt(stored, i)] as const;
    }
    yield* newer.slice(n);
  }

  /** Entries whose stat data say the file is larger than `bytes`, read without decoding the others. */
  const largerThan = (bytes: number): Array<readonly [string, StatCache.Cached]> => {
    const out: Array<readonly [string, StatCache.Cached]> = [];
    for (let i = 0; i < StatCache.size(stored); i++) {
      if (StatCache.sizeAt(stored, i) <= bytes) continue;
      const path = StatCache.pathAt(stored, i);
      if (!changed.has(path)) out.push([path, StatCache.entryAt(stored, i)]);
    }
    for (const [path, entry] of changed) if (entry !== null && parseInt(entry.key, 10) > bytes) out.push([path, entry]);
    return out;
  };

  /**
   * The entries for the items of a sorted listing, by listing index (`entryAt`; undefined where none,
   * and as they were at this call), how many items have one, and the entries for paths the listing
   * lacks (in key order). The stored cache is matched against the listing in one pass, and its
   * entries are made as they are asked for (a listing of 100,000 files keeps no object per file).
   */
  const recall = (listing: ReadonlyArray<ItemPath.ItemPath>) => {
    const all = StatCache.size(stored);
    const from = stored;
    /** Per listed item, the index of its stored entry, or -1. */
    const indices = new Int32Array(listing.length).fill(-1);
    /** Listed items whose entry changed since the stored cache was read (`null`: dropped). */
    const newer = new Map<number, StatCache.Cached | null>();
    const matched = new Uint8Array(all);
    let listed = 0;
    let i = 0;
    for (let n = 0; n < listing.length; n++) {
      const path = listing[n]!;
      // In a sorted listing the next entry is at or after the last one matched; else it is searched for.
      if (n > 0 && ItemPath.compare(listing[n - 1]!, path) >= 0) i = StatCache.firstAtOrAfter(stored, path);
      // One comparison per stored entry passed and one where the walk stops (a second there cost ~10 ms at 100,000 files).
      let order = -1;
      while (i < all && (order = StatCache.comparePathAt(stored, i, path)) < 0) i++;
      const here = i < all && order === 0;
      if (here) matched[i] = 1;
      const entry = changed.size === 0 ? undefined : changed.get(path);
      if (entry !== undefined) newer.set(n, entry);
      else if (here) indices[n] = i;
      if (entry != null || (entry === undefined && here)) listed++;
    }
    const entryAt = (n: number): StatCache.Cached | undefined => {
      const entry = newer.size === 0 ? undefined : newer.get(n);
      if (entry !== undefined) return entry ?? undefined;
      const at = indices[n] ?? -1;
      return at < 0 ? undefined : StatCache.entryAt(from, at);
    };
    const gone: Array<readonly [ItemPath.ItemPath, StatCache.Cached]> = [];
    const keep = (path: string, entry: StatCache.Cached): void => {
      const parsed = ItemPath.parse(path);
      if (E.isRight(parsed)) gone.push([parsed.right, entry]);
    };
    for (let i = 0; i < all; i++) {
      if (matched[i] === 1) continue;
      const path = StatCache.pathAt(stored, i);
      if (!changed.has(path)) keep(path, StatCache.entryAt(stored, i));
    }
    for (const [path, entry] of changed) if (entry !== null && listing[ItemPath.firstAtOrAfter(listing, path)] !== path) keep(path, entry);
    return { entryAt, listed, gone: gone.sort((a, b) => ItemPath.compare(a[0], b[0])) };
  };

  return { get, set, drop, restore, entries, largerThan, recall, holderOf, holdersOf, size: () => count };
};
