/**
 * LocalTree — the protected directory as the agent reads it: a sorted listing of its items, and each
 * item's metadata, manifest and chunk bytes. A stat cache skips re-hashing a file whose size, mtime,
 * ctime, inode and mode are unchanged, unless its mtime is too close to when it was read (git's racy
 * timestamp rule: an edit within the same tick would otherwise go unseen).
 *
 * @example
 * const tree = LocalTree.make("/srv/data", { exclude: ["/srv/data/.spool"] });
 * const paths = await tree.list();          // sorted ItemPaths, directories included
 * const item = await tree.read(paths[0]);   // LocalItem with chunk bytes, or undefined if gone
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { readFileSync, readlinkSync, realpathSync } from "node:fs";
import { lstat } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";
import * as Digest from "../../core/Digest.ts";
import * as Fingerprint from "../../core/Fingerprint.ts";
import type { ItemMeta, LocalItem } from "../../core/ItemMeta.ts";
import * as ItemPath from "../../core/ItemPath.ts";
import * as Manifest from "../../core/Manifest.ts";
import { sha256 } from "../Sha256.ts";
import { yieldTurn } from "./EventLoop.ts";
import * as FileBytes from "./FileBytes.ts";
import * as KnownFiles from "./KnownFiles.ts";
import * as LargeFiles from "./LargeFiles.ts";
import * as StatCache from "./StatCache.ts";
import type { Cached } from "./StatCache.ts";
import * as StatCall from "./StatCall.ts";
import * as TreeScan from "./TreeScan.ts";
import type { StatData } from "./TreeScan.ts";

export type { Cached };

/**
 * Files up to this size are read with synchronous calls: for a small file the thread pool's round
 * trips cost far more than the read (about 1 ms against 20 µs an item here), and the event loop is
 * blocked no longer than hashing the bytes blocks it anyway.
 */
export const syncReadBytes = 1024 * 1024;

/**
 * Whether a cache entry read at `readAt` may be trusted for a file whose mtime is `mtimeMs` (git's
 * racy timestamp rule): a write within the same timestamp tick as the one read would leave the
 * stat data unchanged. Timestamps with a sub-second part come from a file system that keeps fine
 * ones (the kernel stamps them from a clock that ticks every few milliseconds): 100 ms is ample.
 * Whole-second timestamps (FAT, HFS+, some network file systems) need two seconds.
 */
const settled = (readAt: number, mtimeMs: number): boolean => readAt - mtimeMs > (mtimeMs % 1000 === 0 ? 2000 : 100);

/**
 * The largest file the agent reads (a file is read into one typed array, whose length Node 20 caps
 * at 4 GiB; its manifest, one event, must also stay within the store's event limit). A larger file is
 * reported unreadable, with its size, and the store keeps whatever version it has.
 */
export const maxFileBytes = 2 ** 32;

/** Why an item could not be read (other than being gone). */
export interface Unreadable {
  readonly path: string;
  readonly reason: string;
}


/** An item's stat data, or undefined when it cannot be stat'ed (gone, most likely). */
const statOrUndefined = (abs: string): StatData | undefined => {
  try {
    return StatCall.lstat(abs);
  } catch {
    return undefined;
  }
};

const typeOf = (st: StatData): ItemMeta["type"] | undefined => StatCall.kindOf(st.mode);

/** An absolute path with its symbolic links resolved, where it exists; else as given, made absolute. */
const realOrResolved = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};

/** The protected directory itself is gone (removed, or replaced by something not a directory): its listing is not "nothing". */
export class RootGone extends Error {}

/** How a tree is read. */
export interface Options {
  /** Absolute paths left out, with their subtrees. */
  readonly exclude?: ReadonlyArray<string>;
  /** Told of each item that exists but cannot be read (`read` throws it too). */
  readonly onUnreadable?: (u: Unreadable) => void;
  /**
   * Told of a file's other names (hard links) that may have changed unseen: remembered as they were
   * before a change just read through one of them, or the other names of a file whose name was just
   * found gone or replaced (a write through it then went unread). The watcher reports only the name
   * written through.
   */
  readonly onStaleLinks?: (paths: ReadonlyArray<ItemPath.ItemPath>) => void;
}

/** The protected tree. */
export type LocalTree = ReturnType<typeof make>;

/**
 * A reader of the tree at `root` (`Options`: paths left out, and what it tells of as it reads).
 *
 * @category constructors
 */
export const make = (root: string, options: Options = {}) => {
  // A root given through a symbolic link is the directory it leads to (a link itself is no directory
  // to list or watch), and so are excluded paths given through it.
  const base = realOrResolved(root);
  const excluded = (options.exclude ?? []).map(realOrResolved);
  const known = KnownFiles.make((path) => statOrUndefined(full(path)));
  const large = LargeFiles.make((path) => full(path as ItemPath.ItemPath));
  // An item path is already checked (no empty, "." or ".." segments): joined by concatenation, which
  // costs a fraction of `path.join`'s normalising on a path per lstat.
  const prefix = base.endsWith(sep) ? base : base + sep;
  const full = (path: string): string => prefix + (sep === "/" ? path : path.split("/").join(sep));
  const isExcluded = (abs: string): boolean => excluded.some((x) => abs === x || abs.startsWith(x + sep));

  /** True while the protected directory exists (as a directory). */
  const present = (): boolean => {
    const st = statOrUndefined(base);
    return st !== undefined && typeOf(st) === "dir";
  };

  /** The item path of an absolute or root-relative file name, if it is inside the tree and valid. */
  const pathOf = (name: string): ItemPath.ItemPath | undefined => {
    const abs = resolve(base, name);
    if (isExcluded(abs)) return undefined;
    const rel = relative(base, abs);
    if (rel === "" || rel.startsWith("..")) return undefined;
    const parsed = ItemPath.parse(rel.split(sep).join("/"));
    return E.isRight(parsed) ? parsed.right : undefined;
  };

  /** A scan of the whole tree started ahead of the listing that will use it (`prescan`). */
  let prescanned: TreeScan.Scan | undefined;
  const takePrescan = (): Promise<TreeScan.Scanned | undefined> | undefined => {
    const p = prescanned;
    prescanned = undefined;
    return p?.result;
  };
  /**
   * Starts reading the whole tree in a worker, for the next listing of it (while the caller does
   * other work): worth it for a large tree, whose scan takes longer than the worker's start-up.
   */
  const prescan = (): void => {
    prescanned ??= TreeScan.scan(base, excluded);
  };
  /** Reads part of the scan started ahead on this thread, if one is under way (`TreeScan.Scan.help`). */
  const helpPrescan = (): Promise<void> => prescanned?.help() ?? Promise.resolve();
  /**
   * Files' stat data as the last listing of the whole tree (read by a scan) found them, by listing
   * index: the comparison matches them against the cache without stat'ing each file again. Kept
   * beside the listing, not in a map by path: on a tree of 100,000 files a map's inserts and lookups
   * cost ~40 ms.
   */
  let snapshot: { readonly listing: ReadonlyArray<ItemPath.ItemPath>; readonly files: ReadonlyArray<TreeScan.ScannedDir | undefined>; readonly entries: ReadonlyArray<number> } | undefined;
  /** Where a path lies in the snapshot's listing (`index`: where the caller knows it lies), if there. */
  const snapshotIndex = (path: ItemPath.ItemPath, index?: number): number | undefined => {
    if (snapshot === undefined) return undefined;
    const at = index !== undefined && snapshot.listing[index] === path ? index : ItemPath.firstAtOrAfter(snapshot.listing, path);
    return snapshot.listing[at] === path ? at : undefined;
  };

  /**
   * Every item under `dir` (an item path, "" for the root), sorted in key order. Directories are read
   * with synchronous calls (a thread-pool round trip each cost more than the read), yielding to the
   * event loop now and then. Each directory's entries are sorted by name, a subdirectory's contents
   * placed where "name/" falls among them, so the listing comes out in key order as it is built.
   */
  const list = async (dir = ""): Promise<ReadonlyArray<ItemPath.ItemPath>> => {
    // The whole tree is read by the scan started ahead (`prescan`), if any, else here.
    const scanned = dir === "" ? await takePrescan() : undefined;
    const out: Array<ItemPath.ItemPath> = [];
    // Where the scan keeps a file's stat data (its directory's run, and its entry there), by its index in `out` (the snapshot).
    const files: Array<TreeScan.ScannedDir | undefined> = [];
    const entryOf: Array<number> = [];
    if (dir === "") snapshot = scanned === undefined ? undefined : { listing: out, files, entries: entryOf };
    let read = 0;
    const walk = async (abs: string, rel: ItemPath.ItemPath | ""): Promise<void> => {
      if (++read % 256 === 0) await yieldTurn();
      const entries = scanned !== undefined ? scanned.get(abs) : TreeScan.readDir(abs);
      // Not an empty listing (every item deleted) when the protected directory itself is gone.
      if (entries === undefined && rel === "" && !present()) throw new RootGone(`the protected directory ${base} is gone`);
      if (entries === undefined) return;
      const inside = abs.endsWith(sep) ? abs : abs + sep;
      // Entries are checked against the excluded paths only in a directory that holds one.
      const excludes = excluded.some((x) => x.startsWith(inside));
      // [sort key, item path, the directory to read there (for a subdirectory's contents), the entry's index in `entries`]
      const ordered: Array<readonly [string, ItemPath.ItemPath, string | undefined, number]> = [];
      for (let i = entries.from; i < entries.to; i++) {
        const name = entries.names[i]!;
        if (excludes && isExcluded(inside + name)) continue;
        const path = ItemPath.child(rel, name);
        // An item whose name the store cannot hold is said, not passed over in silence.
        const unstorable = E.isLeft(path) ? ItemPath.describe(path.left) : TreeScan.kindAt(entries, i) === "undecodable" ? "its name is not valid UTF-8" : undefined;
        if (unstorable !== undefined) options.onUnreadable?.({ path: rel === "" ? name : `${rel}/${name}`, reason: `${unstorable}, so it cannot be protected` });
        if (E.isLeft(path) || unstorable !== undefined) continue;
        ordered.push([name, path.right, undefined, i]);
        if (TreeScan.kindAt(entries, i) === "dir") ordered.push([`${name}/`, path.right, inside + name, i]);
      }
      ordered.sort((a, b) => ItemPath.compare(a[0], b[0]));
      for (const [, path, contents, i] of ordered) {
        if (contents !== undefined) {
          await walk(contents, path);
          continue;
        }
        out.push(path);
        if (scanned === undefined) continue;
        files.push(TreeScan.kindAt(entries, i) === "file" ? entries : undefined);
        entryOf.push(i);
      }
    };
    await walk(dir === "" ? base : full(dir), dir as ItemPath.ItemPath | "");
    return out;
  };

  const metaOf = (st: StatData, type: ItemMeta["type"], digest: Digest.Digest | null, size: number, linkTarget: string | null): ItemMeta => ({
    type,
    size,
    mode: st.mode & 0o7777,
    mtimeMs: type === "dir" ? 0 : Math.floor(st.mtimeMs),
    digest,
    linkTarget,
  });

  /**
   * Starts the search for kept chunks (`LargeFiles.placeChanged`) of every cached large file whose
   * stat data changed: each will have to be read. Nothing is read on this thread and the cache is
   * not changed.
   */
  const placeChanged = (): void => {
    const changed: Array<LargeFiles.Changed> = [];
    for (const [path, hit] of known.largerThan(syncReadBytes)) {
      const st = statOrUndefined(full(path));
      if (st === undefined || typeOf(st) !== "file" || st.size <= syncReadBytes || hit.manifest.length === 0) continue;
      const key = TreeScan.statKey(st);
      if (key !== hit.key) changed.push({ path, key, size: st.size, previous: hit.manifest });
    }
    large.placeChanged(changed);
  };

  /** Tells of a file's other names that may have changed unseen (`Options.onStaleLinks`). */
  const tellStale = (paths: ReadonlyArray<ItemPath.ItemPath>): void => {
    if (paths.length > 0) options.onStaleLinks?.(paths);
  };

  const readFileItem = async (path: ItemPath.ItemPath, st: StatData, withBytes: boolean, storeHas?: ReadonlySet<string>): Promise<LocalItem> => {
    const key = TreeScan.statKey(st);
    const hit = known.entryFor(path, st);
    if (hit !== undefined && StatCache.keyIs(hit, key) && settled(hit.readAt, st.mtimeMs)) {
      if (!withBytes) return { path, meta: hit.meta, manifest: hit.manifest, chunks: new Map() };
      const parts = storeHas === undefined ? undefined : FileBytes.readParts(full(path), hit.manifest, storeHas);
      if (parts !== undefined) return { path, meta: hit.meta, manifest: hit.manifest, chunks: parts };
    }
    const small = st.size <= syncReadBytes;
    const { manifest, chunks, size } = small ? LargeFiles.chunked(readFileSync(full(path)), hit?.manifest) : await large.chunk(path, key, st.size, hit?.manifest, withBytes, storeHas);
    const meta = metaOf(st, "file", Manifest.contentDigest(manifest, sha256), size, null);
    // The cache keeps what was read only if the file did not change while it was read.
    const after = small ? statOrUndefined(full(path)) : await lstat(full(path)).catch(() => undefined);
    if (hit !== undefined && StatCache.digestOf(hit) !== meta.digest) known.letGo(hit);
    tellStale([...known.staleLinks(path, st), ...known.namesLeft(path, st)]);
    // Its fingerprint is taken now (a few µs beside the read), not by the next comparison of the whole tree.
    if (after !== undefined && TreeScan.statKey(after) === key) known.put(path, { key, readAt: Date.now(), meta, manifest, print: Fingerprint.ofItem(sha256, path, meta) });
    else known.drop(path);
    return { path, meta, manifest, chunks: withBytes ? chunks : new Map() };
  };

  /**
   * Reads one item: metadata and manifest, and chunk bytes when `withBytes` (default) — only of the
   * chunks `storeHas` lacks, when given and the file is unchanged since it was last read whole.
   * `undefined` when it is gone or of an unsupported kind; throws `Unreadable` when it exists but
   * cannot be read.
   */
  const read = async (path: ItemPath.ItemPath, withBytes = true, storeHas?: ReadonlySet<string>): Promise<LocalItem | undefined> => {
    await ahead.get(path);
    return readNow(path, withBytes, storeHas);
  };

  /** Reads started ahead of their turn (`readAhead`), by path: a read or peek of the same path waits for it. */
  const ahead = new Map<string, Promise<unknown>>();
  /**
   * Starts reading a file for its manifest (into a reused buffer) ahead of its turn, so it is read
   * while another is hashed; its turn then finds it in the cache and reads only the chunks the store
   * lacks.
   */
  const readAhead = (path: ItemPath.ItemPath): void => {
    if (ahead.has(path)) return;
    ahead.set(path, readNow(path, false).catch(() => undefined).finally(() => ahead.delete(path)));
  };

  const readNow = async (path: ItemPath.ItemPath, withBytes = true, storeHas?: ReadonlySet<string>): Promise<LocalItem | undefined> => {
    const abs = full(path);
    const gone = (): undefined => {
      tellStale(known.namesLeft(path, undefined));
      known.letGo(known.get(path));
      known.drop(path);
      return undefined;
    };
    const unreadable = (reason: string): Unreadable => {
      const u: Unreadable = { path, reason };
      options.onUnreadable?.(u);
      return u;
    };
    try {
      const st = StatCall.lstat(abs);
      if (st === undefined) return gone();
      const type = typeOf(st);
      // A file remembered here has left (something else is here now): its other names may have changed unseen.
      if (type !== "file" && known.get(path) !== undefined) {
        tellStale(known.namesLeft(path, st));
        known.drop(path);
      }
      if (type === undefined || isExcluded(abs)) return undefined;
      if (type === "file" && st.size > maxFileBytes) throw unreadable(`it is ${(st.size / 2 ** 30).toFixed(1)} GiB, and files over 4 GiB are not protected yet`);
      if (type === "dir") return { path, meta: metaOf(st, "dir", null, 0, null), manifest: [], chunks: new Map() };
      if (type === "symlink") {
        const target = readlinkSync(abs, "utf8");
        const bytes = new TextEncoder().encode(target);
        return { path, meta: metaOf(st, "symlink", Digest.of(sha256, bytes), bytes.length, target), manifest: [], chunks: new Map() };
      }
      return await readFileItem(path, st, withBytes, storeHas);
    } catch (e) {
      if (isUnreadable(e)) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return gone();
      throw unreadable(code ?? String(e));
    }
  };

  /** A cache entry's fingerprint, computed the first time and kept with it. */
  const keptPrint = (path: ItemPath.ItemPath, hit: Cached): Fingerprint.Fingerprint => {
    if (hit.print === undefined) {
      hit.print = Fingerprint.ofItem(sha256, path, hit.meta);
      known.touched();
    }
    return hit.print;
  };

  /** The cached item of a file whose stat data are `st`, if they still match and are not racy. */
  const fromCache = (path: ItemPath.ItemPath, st: StatData | undefined): LocalItem | undefined => {
    if (st === undefined || typeOf(st) !== "file") return undefined;
    const hit = known.entryFor(path, st);
    if (hit === undefined || !StatCache.statIs(hit, st) || !settled(hit.readAt, st.mtimeMs)) return undefined;
    return { path, meta: hit.meta, manifest: hit.manifest, chunks: new Map() };
  };

  /** A file's metadata and manifest from the stat cache, if its stat data still match (no content is read). */
  const peek = async (path: ItemPath.ItemPath): Promise<LocalItem | undefined> => {
    await ahead.get(path);
    return fromCache(path, statOrUndefined(full(path)));
  };

  /**
   * The fingerprints of files whose stat data still match their cache entries (`undefined` for the
   * others), with synchronous stat calls: for a whole tree's check a synchronous `lstat` costs a
   * third of an asynchronous one. Nothing else of an entry is used, so an entry read back from disk
   * is not decoded further. Callers keep batches small (a few hundred paths block the event loop for
   * well under a millisecond).
   */
  const cachedPrints = (paths: ReadonlyArray<ItemPath.ItemPath>): ReadonlyArray<Fingerprint.Fingerprint | undefined> =>
    paths.map((path) => {
      const hit = known.get(path);
      return hit !== undefined && matchesStat(path, hit) ? keptPrint(path, hit) : undefined;
    });

  /**
   * True when the file at `path` is still the one `entry` remembers reading: its stat data (as the
   * last listing of the whole tree found them, else one synchronous `lstat`) equal the entry's, and
   * are not racy. `index`, when given, is where the path lies in that listing.
   */
  const matchesStat = (path: ItemPath.ItemPath, entry: Cached, index?: number): boolean => {
    const at = snapshotIndex(path, index);
    if (at === undefined) {
      const st = statOrUndefined(full(path));
      return st !== undefined && typeOf(st) === "file" && StatCache.statIs(entry, st) && settled(entry.readAt, st.mtimeMs);
    }
    // A listed item the scan found not to be a file: no match.
    const scannedDir = snapshot!.files[at];
    if (scannedDir === undefined) return false;
    const st = TreeScan.statAt(scannedDir, snapshot!.entries[at]!);
    return StatCache.statIs(entry, st) && settled(entry.readAt, st.mtimeMs);
  };

  /** True when a file's stat data equal those of its last read (directories and links: when they still exist). */
  const isUnchanged = async (path: ItemPath.ItemPath): Promise<boolean> => {
    const st = statOrUndefined(full(path));
    if (st === undefined) return false;
    if (typeOf(st) !== "file") return true;
    const hit = known.get(path);
    return hit !== undefined && StatCache.statIs(hit, st);
  };

  /**
   * An item's fingerprint; for a cached file (`meta` as the cache gave it) it is kept with the entry,
   * and persisted with the cache, so an unchanged file is hashed once, not at every comparison.
   */
  const printOf = (path: ItemPath.ItemPath, meta: ItemMeta): Fingerprint.Fingerprint => {
    const hit = known.get(path);
    return hit === undefined || hit.meta !== meta ? Fingerprint.ofItem(sha256, path, meta) : keptPrint(path, hit);
  };

  /**
   * The cache's entries for the items of a sorted listing (`entryAt` by index; `undefined` where
   * none), how many items have one, and its entries for paths the listing lacks (sorted): what the
   * tree remembers reading, as a comparison begins (`Expectation`).
   */
  const recall = (listing: ReadonlyArray<ItemPath.ItemPath>) => known.recall(listing);

  /** An entry's fingerprint (kept with it once computed), whether or not the cache still holds it. */
  const printOfEntry = (path: ItemPath.ItemPath, entry: Cached): Fingerprint.Fingerprint => keptPrint(path, entry);
  /** `printOfEntry`'s lanes, copied into `lanes` at `at` (no fingerprint object made for an entry read back with one). */
  const printOfEntryInto = (path: ItemPath.ItemPath, entry: Cached, lanes: Uint32Array, at: number): void => {
    if (!StatCache.copyPrint(entry, lanes, at)) Fingerprint.copyLanes(keptPrint(path, entry), lanes, at);
  };

  /** The kind of item at `path` now (one `lstat`), or undefined when there is none the tree holds. */
  const kindOf = (path: ItemPath.ItemPath): ItemMeta["type"] | undefined => {
    const st = statOrUndefined(full(path));
    return st === undefined ? undefined : typeOf(st);
  };

  /** The stat cache, to persist between runs. */
  const cached = (): ReadonlyArray<readonly [string, Cached]> => [...known.entries()];
  /** Restores a persisted stat cache in place of what is remembered (entries are still checked against stat data before use). */
  const remember = (stored: StatCache.Stored): void => {
    known.restore(stored);
  };

  return { root: base, present, list, prescan, helpPrescan, placeChanged, read, readAhead, peek, departed: known.departed, takeFormer: known.takeFormer, formerDirectory: known.formerDirectory, predecessorOf: known.predecessorOf, successorOf: known.successorOf, cachedPrints, matchesStat, printOf, recall, printOfEntry, printOfEntryInto, kindOf, pathOf, isUnchanged, manifestOf: known.manifestOf, seenElsewhere: known.seenElsewhere, cached, remember, changes: known.changes };
};

/** True for the error `read` throws on an item that exists but cannot be read. */
export const isUnreadable = (e: unknown): e is Unreadable =>
  typeof e === "object" && e !== null && "path" in e && "reason" in e && !(e instanceof Error);
