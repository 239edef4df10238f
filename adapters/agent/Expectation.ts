/**
 * Expectation — the store's catalogue as the agent expects to find it when a comparison begins: the
 * files as the stat cache remembers reading them (each was sent, or found equal to the store's
 * version, when it was read), and the directories and links as they are now. When the store's
 * fingerprint of a range equals this expected one, the store holds exactly the remembered items there
 * (to the fingerprint's strength: a 128-bit sum), so only the items whose local state differs from the
 * remembered one need comparing — files whose stat data changed, files new to the cache, files gone
 * — and the store's metadata of each (manifest included) is the remembered entry: nothing more is
 * asked of the store for the range. When the fingerprints differ (the cache is stale, a directory is
 * new or gone, the store changed behind the agent's back), the range search goes on as before.
 *
 * @example
 * shell.expected = Expectation.take(shell.tree, shell.listing);
 * if (Fingerprint.equals(remote, await Expectation.sum(shell.expected, shell, i, j, range))) …
 * const next = await Expectation.nextDiffering(shell.expected, shell, i, j, range);
 *
 * @module
 */
import * as Fingerprint from "../../core/Fingerprint.ts";
import type { ItemMeta, KnownItem } from "../../core/ItemMeta.ts";
import { compare, firstAtOrAfter, type ItemPath, subtreeBounds } from "../../core/ItemPath.ts";
import { yieldTurn } from "./EventLoop.ts";
import * as LocalTree from "./LocalTree.ts";

/** What the comparison expects of the store (see the module's comment). */
export interface Expectation {
  /** The cache's entry by listing index, as the comparison began (later reads replace the cache's, not these). */
  readonly entryAt: (n: number) => LocalTree.Cached | undefined;
  /** Remembered files the listing lacks, in key order, and their paths alone. */
  readonly gone: ReadonlyArray<readonly [ItemPath, LocalTree.Cached]>;
  readonly goneKeys: ReadonlyArray<ItemPath>;
  /**
   * Per listed item, whether its expected fingerprint is learnt (`unlearnt`, `none`: the store is
   * expected not to hold it, `learnt`), and its four lanes in `lanes` once learnt: typed arrays, not an
   * object per item (a listing of 100,000 files).
   */
  readonly printStates: Uint8Array;
  readonly lanes: Uint32Array;
  /** Per listed item once checked: 1 its local state is the remembered one, 2 it differs. */
  readonly checked: Uint8Array;
}

const [unlearnt, none, learnt] = [0, 1, 2] as const;

/** The parts of the agent's shell the expectation reads. */
export interface Local {
  readonly tree: LocalTree.LocalTree;
  readonly listing: ReadonlyArray<ItemPath>;
  /** Local fingerprints by listing index, where already learnt. */
  readonly prints: ReadonlyArray<Fingerprint.Fingerprint | null | undefined>;
}

/** A key range, as the range search passes it. */
interface Range {
  readonly gte: string;
  readonly lt: string | null;
}

/** How many items are checked between yields to the event loop. */
const batch = 256;

/** The expectation for a comparison of `listing`, or undefined when the tree remembers nothing. */
export const take = (tree: LocalTree.LocalTree, listing: ReadonlyArray<ItemPath>): Expectation | undefined => {
  const { entryAt, listed, gone } = tree.recall(listing);
  if (gone.length === 0 && listed === 0) return undefined;
  const n = listing.length;
  return { entryAt, gone, goneKeys: gone.map(([p]) => p), printStates: new Uint8Array(n), lanes: new Uint32Array(4 * n), checked: new Uint8Array(n) };
};

/** The remembered files the listing lacks below directory `dir`, in key order. */
export const goneBelow = (x: Expectation, dir: ItemPath): ReadonlyArray<readonly [ItemPath, LocalTree.Cached]> => {
  const { gt, lt } = subtreeBounds(dir);
  return goneIn(x, { gte: gt, lt });
};

/** Records listed item `n`'s expected fingerprint. */
const learn = (x: Expectation, n: number, print: Fingerprint.Fingerprint | null): void => {
  x.printStates[n] = print === null ? none : learnt;
  if (print !== null) Fingerprint.copyLanes(print, x.lanes, 4 * n);
};

/** The remembered files the listing lacks whose keys lie in `range`. */
const goneIn = (x: Expectation, range: Range): ReadonlyArray<readonly [ItemPath, LocalTree.Cached]> => {
  const from = firstAtOrAfter(x.goneKeys, range.gte);
  const to = range.lt === null ? x.gone.length : firstAtOrAfter(x.goneKeys, range.lt);
  return x.gone.slice(from, to);
};

/** The kind of listed item `n`: a file when the cache has an entry for it, else as it is now (one `lstat`). */
const kindOfListed = (local: Local, n: number, entry: LocalTree.Cached | undefined): ItemMeta["type"] | undefined =>
  entry === undefined ? local.tree.kindOf(local.listing[n]!) : "file";

/**
 * Learns an item's expected fingerprint when it is known without reading: a remembered file's; a
 * directory's or link's own if already learnt; none for a file the cache does not remember (or an
 * item gone). False for a directory or link whose fingerprint must be read.
 */
const learnExpected = (x: Expectation, local: Local, n: number, entry = x.entryAt(n), kind = kindOfListed(local, n, entry)): boolean => {
  const path = local.listing[n]!;
  if (entry !== undefined) {
    local.tree.printOfEntryInto(path, entry, x.lanes, 4 * n);
    x.printStates[n] = learnt;
    return true;
  }
  if (kind !== "dir" && kind !== "symlink") {
    learn(x, n, null);
    return true;
  }
  // A directory's or link's own fingerprint once learnt (and not found gone); else it is read.
  const own = local.prints[n];
  if (own == null) return false;
  learn(x, n, own);
  return true;
};

/** A directory's or link's own fingerprint (null when it is gone or cannot be read). */
const readPrint = async (local: Local, n: number): Promise<Fingerprint.Fingerprint | null> => {
  const path = local.listing[n]!;
  const item = await local.tree.read(path, false).catch(() => undefined);
  return item === undefined ? null : local.tree.printOf(path, item.meta);
};

/** The expected fingerprint of `range`, whose listed items are i…j-1. */
export const sum = async (x: Expectation, local: Local, i: number, j: number, range: Range): Promise<Fingerprint.Fingerprint> => {
  const toRead: Array<number> = [];
  for (let n = i; n < j; n++) {
    if (x.printStates[n] === unlearnt && !learnExpected(x, local, n)) toRead.push(n);
    if ((n - i) % (16 * batch) === 0 && n > i) await yieldTurn();
  }
  for (const n of toRead) learn(x, n, await readPrint(local, n));
  const gone = goneIn(x, range).map(([path, entry]) => local.tree.printOfEntry(path, entry));
  return Fingerprint.combine(learntSum(x, i, j), Fingerprint.sum(gone));
};

/** The sum of the learnt fingerprints of listed items i…j-1 (as `Fingerprint.sum`, over the lanes: an item's fingerprint counts 1). */
const learntSum = (x: Expectation, i: number, j: number): Fingerprint.Fingerprint => {
  let [count, a, b, c, d] = [0, 0, 0, 0, 0];
  for (let n = i; n < j; n++) {
    if (x.printStates[n] !== learnt) continue;
    count++;
    a = (a + x.lanes[4 * n]!) >>> 0;
    b = (b + x.lanes[4 * n + 1]!) >>> 0;
    c = (c + x.lanes[4 * n + 2]!) >>> 0;
    d = (d + x.lanes[4 * n + 3]!) >>> 0;
  }
  return { count, lanes: [a, b, c, d] };
};

/** True when the store's fingerprint of `range` (listed items i…j-1) is the expected one. */
export const matches = async (x: Expectation, local: Local, remote: Fingerprint.Fingerprint, i: number, j: number, range: Range): Promise<boolean> =>
  Fingerprint.equals(remote, await sum(x, local, i, j, range));

/**
 * Marks listed items i…j-1 (a batch) as the same as remembered or differing: a remembered file is
 * the same while its stat data match the remembered read's; one not remembered is new to the store
 * if it is a file, as expected if it is a directory or link (its own fingerprint was expected).
 */
const check = (x: Expectation, local: Local, i: number, j: number): void => {
  for (let n = i; n < j; n++) if (x.checked[n] === 0) checkOne(x, local, n);
};

/** `check` of listed item `n`, given its cache entry (and the kind of item, where it has none) when known. */
const checkOne = (x: Expectation, local: Local, n: number, entry = x.entryAt(n), kind = kindOfListed(local, n, entry)): void => {
  x.checked[n] = (entry !== undefined ? local.tree.matchesStat(local.listing[n]!, entry, n) : kind !== "file") ? 1 : 2;
};

/**
 * Learns the whole listing's expected fingerprints and which items differ from what is remembered
 * (one `lstat` each), ahead of the first range's answer from the store: one pass, each item's entry
 * looked up once.
 */
export const prepare = async (x: Expectation, local: Local): Promise<void> => {
  const toRead: Array<number> = [];
  for (let n = 0; n < local.listing.length; n++) {
    if (n % (16 * batch) === 16 * batch - 1) await yieldTurn();
    if (x.printStates[n] !== unlearnt && x.checked[n] !== 0) continue;
    const entry = x.entryAt(n);
    const kind = kindOfListed(local, n, entry);
    if (x.printStates[n] === unlearnt && !learnExpected(x, local, n, entry, kind)) toRead.push(n);
    if (x.checked[n] === 0) checkOne(x, local, n, entry, kind);
  }
  for (const n of toRead) learn(x, n, await readPrint(local, n));
};

/** How far past an item the next large one to read ahead is looked for. */
const lookAhead = 256;

/**
 * The next listed item after `n` (before `j`, and not far) that differs from what is remembered and
 * was a large file: worth reading while the items before it are processed.
 */
export const nextLarge = (x: Expectation, local: Local, n: number, j: number): ItemPath | undefined => {
  for (let m = n + 1; m < Math.min(j, n + 1 + lookAhead); m++) {
    if (x.checked[m] === 2 && (x.entryAt(m)?.meta.size ?? 0) > LocalTree.syncReadBytes) return local.listing[m];
  }
  return undefined;
};

/** The first item of a range the store is expected to hold as remembered that needs comparing, and the store's version of it. */
export interface Differing {
  readonly path: ItemPath;
  readonly remote: KnownItem | null;
}

/**
 * The first item in `range` (listed items i…j-1) whose local state differs from the remembered one,
 * listed or gone, with the store's version of it as remembered; undefined when there is none.
 */
export const nextDiffering = async (x: Expectation, local: Local, i: number, j: number, range: Range): Promise<Differing | undefined> => {
  // The first remembered file gone from the listing in the range (not a slice of them: this runs once per item compared).
  const first = firstAtOrAfter(x.goneKeys, range.gte);
  const gone = first < x.gone.length && (range.lt === null || compare(x.goneKeys[first]!, range.lt) < 0) ? x.gone[first] : undefined;
  const limit = gone === undefined ? j : firstAtOrAfter(local.listing, gone[0]);
  let batches = 0;
  for (let n = i; n < Math.min(j, limit); n++) {
    if (x.checked[n] === 0) {
      if (++batches % 16 === 0) await yieldTurn();
      check(x, local, n, Math.min(j, n + batch));
    }
    if (x.checked[n] === 2) {
      const entry = x.entryAt(n);
      return { path: local.listing[n]!, remote: entry === undefined ? null : { meta: entry.meta, manifest: entry.manifest } };
    }
  }
  return gone === undefined ? undefined : { path: gone[0], remote: { meta: gone[1].meta, manifest: gone[1].manifest } };
};
