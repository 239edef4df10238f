/**
 * KnownFiles — what the agent knows of the tree's files between reads: the stat cache (`Remembered`)
 * with what it answers beside it, by content digest (the manifests of versions let go of, how many
 * files hold each digest) and by inode (where a file that appeared was before it moved; a file's
 * other names). It counts its own changes, so an unchanged cache need not be saved again.
 *
 * @example
 * const known = KnownFiles.make((path) => lstatOrUndefined(`/srv/data/${path}`));
 * known.put("docs/a.txt", entry);
 * known.entryFor("notes/a.txt", st);          // docs/a.txt's entry, moved here, after `mv docs notes`
 * known.takeFormer("notes/a.txt");            // "docs/a.txt" (once)
 * known.seenElsewhere("c.txt", digest);       // true: another file holds this content
 * known.staleLinks("a.txt", st);              // ["b.txt"]: a.txt's other name, remembered from before a write
 * known.namesLeft("a.txt", undefined);        // ["b.txt"]: a.txt is gone, and b.txt was another name of it
 * known.predecessorOf("notes", children, gone); // "docs": notes/a.txt was docs/a.txt (remembered, not listed now)
 * known.successorOf("docs", gone, listing);     // "notes": where docs/a.txt, remembered, is now notes/a.txt
 *
 * @module
 */
import type { ItemPath } from "../../core/ItemPath.ts";
import type * as Manifest from "../../core/Manifest.ts";
import * as FormerPath from "./FormerPath.ts";
import * as Remembered from "./Remembered.ts";
import * as StatCache from "./StatCache.ts";
import type { Cached } from "./StatCache.ts";
import * as StatCall from "./StatCall.ts";
import * as TreeScan from "./TreeScan.ts";
import type { StatData } from "./TreeScan.ts";

/** Most former paths kept for `takeFormer`. */
const maxFormers = 1024;

/** Most manifests of let-go versions kept (`manifestOf`). */
const maxEarlier = 10_000;

/** What the agent knows of the tree's files. */
export type KnownFiles = ReturnType<typeof make>;

/**
 * An empty memory of the tree whose items `statAt` stats (one `lstat` by item path, `undefined` when
 * nothing is there). Its entries are kept by item path, so the paths it gives back are item paths.
 *
 * @category constructors
 */
export const make = (statAt: FormerPath.StatAt) => {
  const cache = Remembered.make();
  let changes = 0;
  /**
   * Manifests of versions the cache has let go of (a file re-read after a change, or gone), by content
   * digest: often the version the store still holds, whose manifest then need not be asked for.
   */
  const earlier = new Map<string, Manifest.Manifest>();
  /**
   * How many cached files have each content digest: counted once first asked for (`seenElsewhere`),
   * then kept up to date, so a cache read back from disk need not decode every entry's metadata.
   */
  let holders: Map<string, number> | undefined;
  const count = (entry: Cached | undefined, by: number): void => {
    const digest = holders === undefined || entry === undefined ? null : StatCache.digestOf(entry);
    if (digest === null) return;
    const n = (holders!.get(digest) ?? 0) + by;
    if (n > 0) holders!.set(digest, n);
    else holders!.delete(digest);
  };
  const holdersByDigest = (): Map<string, number> => {
    if (holders === undefined) {
      holders = new Map();
      for (const [, entry] of cache.entries()) count(entry, 1);
    }
    return holders;
  };

  /** Adds or replaces the entry of `path`. */
  const put = (path: string, entry: Cached): void => {
    // Until digests are counted there is nothing to take the replaced entry off: it is not looked up.
    if (holders !== undefined) count(cache.get(path), -1);
    cache.set(path, entry);
    count(entry, 1);
    changes++;
  };
  /** Drops the entry of `path`; false when there was none. */
  const drop = (path: string): boolean => {
    count(cache.get(path), -1);
    const dropped = cache.drop(path);
    if (dropped) changes++;
    return dropped;
  };
  /** Keeps the manifest of a version the cache lets go of (`hit`), for `manifestOf` and `seenElsewhere`. */
  const letGo = (hit: Cached | undefined): void => {
    const digest = hit === undefined ? null : StatCache.digestOf(hit);
    if (hit === undefined || digest === null) return;
    earlier.delete(digest);
    earlier.set(digest, hit.manifest);
    if (earlier.size > maxEarlier) earlier.delete(earlier.keys().next().value!);
  };
  /** Counts a change made to an entry in place (a fingerprint kept with it). */
  const touched = (): void => {
    changes++;
  };

  /** Where files read without an entry of their own were before they moved (`takeFormer`), by path; bounded. */
  const formers = new Map<string, ItemPath>();

  /**
   * The entry of the file at `path` with stat data `st`: its own, or else the one remembered where it
   * was before it moved (`FormerPath`), taken over when its stat data are this file's exactly (a file
   * whose directory moved keeps even its ctime), so it is not read again.
   */
  const entryFor = (path: string, st: StatData): Cached | undefined => {
    const hit = cache.get(path);
    if (hit !== undefined) return hit;
    const former = FormerPath.ofFile(cache, path, st, statAt) as ItemPath | undefined;
    if (former === undefined) return undefined;
    if (formers.size >= maxFormers) formers.clear();
    formers.set(path, former);
    const entry = cache.get(former);
    if (entry === undefined || !StatCache.statIs(entry, st)) return undefined;
    const moved: Cached = { key: entry.key, readAt: entry.readAt, meta: entry.meta, manifest: entry.manifest };
    drop(former);
    put(path, moved);
    return moved;
  };

  /** Where the file last read at `path` was before it moved, when it was remembered elsewhere (once). */
  const takeFormer = (path: string): ItemPath | undefined => {
    const former = formers.get(path);
    formers.delete(path);
    return former;
  };

  /**
   * True when the item remembered at `path` has left it: nothing is there, or the file there is
   * another (another inode: a log rotation's `mv log log.1` and a new `log`).
   */
  const departed = (path: string): boolean => {
    const st = statAt(path);
    if (st === undefined) return true;
    const hit = StatCall.kindOf(st.mode) === "file" ? cache.get(path) : undefined;
    return hit !== undefined && StatCache.inodeOfKey(hit.key) !== String(st.ino);
  };

  /**
   * The other names of the file at `path` (hard links, by inode) whose entries no longer match its
   * stat data `st`: a write through one name changes the file under all of them, and the watcher
   * reports only the name written through. None for a file with one name.
   */
  const staleLinks = (path: string, st: StatData): ReadonlyArray<ItemPath> => {
    if ((st.nlink ?? 1) <= 1) return [];
    const key = TreeScan.statKey(st);
    return cache.holdersOf(st.ino).filter((p): p is ItemPath => p !== path && !StatCache.keyIs(cache.get(p)!, key));
  };

  /**
   * The other names (hard links, by inode) of the file remembered at `path` when it has left it
   * (nothing is there now, `st` undefined, or another file is), where their entries no longer match
   * their stat data (one `lstat` each). A write through a name removed or replaced at once is
   * reported by the watcher under that name only, and was never read there. (A renamed file's new
   * name, read already, matches its entry.)
   */
  const namesLeft = (path: string, st: StatData | undefined): ReadonlyArray<ItemPath> => {
    const hit = cache.get(path);
    if (hit === undefined) return [];
    const inode = StatCache.inodeOfKey(hit.key);
    if (st !== undefined && String(st.ino) === inode) return [];
    return cache.holdersOf(Number(inode)).filter((p): p is ItemPath => {
      if (p === path) return false;
      const now = statAt(p);
      return now === undefined || !StatCache.statIs(cache.get(p)!, now);
    });
  };

  /** Where the directory at `dir`, holding `children`, was before it moved (`FormerPath.ofDirectory`). */
  const formerDirectory = (dir: string, children: ReadonlyArray<string>): ItemPath | undefined =>
    FormerPath.ofDirectory(cache, dir, children, statAt) as ItemPath | undefined;

  const pathAndInode = ([path, entry]: readonly [string, Cached]) => [path, Number(StatCache.inodeOfKey(entry.key))] as const;
  /** Paths and inodes of remembered entries (of a list asked about again, as made the first time). */
  const inodeLists = new WeakMap<ReadonlyArray<readonly [string, Cached]>, ReadonlyArray<readonly [string, number]>>();
  const inodesOf = (entries: ReadonlyArray<readonly [string, Cached]>): ReadonlyArray<readonly [string, number]> => {
    let inodes = inodeLists.get(entries);
    if (inodes === undefined) {
      inodes = entries.map(pathAndInode);
      inodeLists.set(entries, inodes);
    }
    return inodes;
  };
  /**
   * Where the directory now at `dir`, holding `children`, was before it moved while nobody watched
   * (`FormerPath.predecessorOf`), through the entries of files remembered at paths the tree lacks (`gone`).
   */
  const predecessorOf = (dir: string, children: ReadonlyArray<string>, gone: ReadonlyArray<readonly [string, Cached]>): ItemPath | undefined =>
    FormerPath.predecessorOf(dir, children, inodesOf(gone), statAt) as ItemPath | undefined;
  /**
   * Where the directory gone from `dir` is now (`FormerPath.successorOf`), through the entries of the
   * files remembered below it (`gone`, in key order) and the tree's items now (`listing`).
   */
  const successorOf = (dir: string, gone: ReadonlyArray<readonly [string, Cached]>, listing: ReadonlyArray<string>): ItemPath | undefined =>
    FormerPath.successorOf(dir, gone.slice(0, FormerPath.unwatchedTried).map(pathAndInode), listing, statAt) as ItemPath | undefined;

  /**
   * The manifest of a version of `path` with content digest `digest`, if the tree has seen it: the
   * cached one, or one let go of. (A content digest is a hash of the manifest, so they match.)
   */
  const manifestOf = (path: string, digest: string | null): Manifest.Manifest | undefined => {
    if (digest === null) return undefined;
    const hit = cache.get(path);
    return hit !== undefined && StatCache.digestOf(hit) === digest ? hit.manifest : earlier.get(digest);
  };

  /**
   * True when content with this digest was seen under another path than `path` (cached there, or let
   * go of): a file created with it was most likely moved or copied, and the store may hold its chunks.
   */
  const seenElsewhere = (path: string, digest: string | null): boolean => {
    if (digest === null) return false;
    if (earlier.has(digest)) return true;
    const own = cache.get(path);
    return (holdersByDigest().get(digest) ?? 0) > (own !== undefined && StatCache.digestOf(own) === digest ? 1 : 0);
  };

  /** Restores a persisted stat cache in place of what is remembered (entries are still checked against stat data before use). */
  const restore = (stored: StatCache.Stored): void => {
    cache.restore(stored);
    holders = undefined;
  };

  return {
    get: cache.get,
    largerThan: cache.largerThan,
    recall: cache.recall,
    entries: cache.entries,
    put,
    drop,
    letGo,
    touched,
    entryFor,
    takeFormer,
    departed,
    staleLinks,
    namesLeft,
    formerDirectory,
    predecessorOf,
    successorOf,
    manifestOf,
    seenElsewhere,
    restore,
    changes: () => changes,
  };
};
