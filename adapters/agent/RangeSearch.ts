/**
 * RangeSearch — how the agent compares its sorted listing with the store's catalogue, range by
 * range: a range whose store fingerprint is known is matched when the item counts agree and the
 * local fingerprint (a sum of item fingerprints, kept with the stat cache) equals it; a range the
 * store holds nothing in is all new. Otherwise a range of more than 32 local items is split 16 ways
 * (straight down to ranges of about 4 when most of its siblings differed too), whose fingerprints
 * the store sends in one reply, and a smaller one is read as metadata without manifests (fetched
 * only for items whose content may differ). What each differing sub-range will need is asked ahead,
 * pipelined. Traffic grows with the number of differences times the depth of the descent (log16 of
 * the tree's size), not with the tree.
 *
 * @example
 * // when the processor's next step is NeedRange
 * await RangeSearch.rangeStep(shell, step.from);
 *
 * @module
 */
import * as t from "io-ts";
import * as Fingerprint from "../../core/Fingerprint.ts";
import * as ItemMeta from "../../core/ItemMeta.ts";
import type { KnownItem } from "../../core/ItemMeta.ts";
import { firstAtOrAfter, type ItemPath } from "../../core/ItemPath.ts";
import type * as Manifest from "../../core/Manifest.ts";
import * as Protocol from "../../core/Protocol.ts";
import * as Client from "../wire/Client.ts";
import { yieldTurn } from "./EventLoop.ts";
import * as Expectation from "./Expectation.ts";
import { call, ClientFailure, connected, decide, flush, reachesOtherRanges, type Shell } from "./Shell.ts";

/** Ranges with at most this many local items are read as metadata, not compared by fingerprint. */
const smallRange = 32;
/** How many sub-ranges one fingerprint query asks for. */
const fanout = 16;
/** Most sub-ranges one fingerprint query asks for when changes are dense. */
const maxParts = 256;
/** About how many local items a sub-range of a dense split holds. */
const denseLeaf = 4;
/** Most splits asked ahead that one step of the search examines before their turn. */
const splitsExaminedAhead = 4;
/** How many local items are checked at once for their fingerprints. */
const readBatch = 256;
/** Most items one `Items` query asks for. */
export const itemBatch = 512;
/** Most entries one range's metadata page holds. */
const metadataPage = 1000;

/**
 * Fills in the fingerprints of listing items i…j-1 not yet known (`Shell.prints`): cached files a
 * batch at a time (one lstat each); the rest, when `readAll`, read one by one (a file not cached is
 * read whole, and many at once could fill memory). True when every item there is known.
 */
const learnPrints = async (shell: Shell, i: number, j: number, readAll: boolean): Promise<boolean> => {
  const prints = shell.prints;
  let complete = true;
  for (let k = i; k < j; k += readBatch) {
    // Checked without waiting on I/O, so the loop yields now and then (heartbeats, watch events).
    if ((k - i) % (16 * readBatch) === 0 && k > i) await yieldTurn();
    const unknown: Array<number> = [];
    for (let n = k; n < Math.min(j, k + readBatch); n++) if (prints[n] === undefined) unknown.push(n);
    if (unknown.length === 0) continue;
    const cached = shell.tree.cachedPrints(unknown.map((n) => shell.listing[n]!));
    const toRead: Array<number> = [];
    for (const [x, n] of unknown.entries()) {
      if (cached[x] !== undefined) prints[n] = cached[x];
      else if (readAll) toRead.push(n);
      else complete = false;
    }
    // Two at a time: one file is read (by the thread pool) while the other is chunked here.
    const readOne = async (n: number): Promise<void> => {
      const path = shell.listing[n]!;
      const item = await shell.tree.read(path, false).catch(() => null);
      if (item === undefined) complete = false;
      else prints[n] = item === null ? null : shell.tree.printOf(path, item.meta);
    };
    const lanes = [0, 1].map(async () => {
      for (let n = toRead.shift(); n !== undefined; n = toRead.shift()) await readOne(n);
    });
    await Promise.all(lanes);
  }
  return complete;
};

/**
 * The local fingerprint of listing items i…j-1 (an item gone or unreadable counts as absent),
 * reading files the stat cache does not answer for.
 */
const localFingerprint = async (shell: Shell, i: number, j: number): Promise<Fingerprint.Fingerprint> => {
  await learnPrints(shell, i, j, true);
  return Fingerprint.sum(shell.prints, i, j);
};

/**
 * True when the store's fingerprint of listing items i…j-1 equals the local one. Counts first: a
 * range whose item counts differ needs none of its files read.
 */
const matches = async (shell: Shell, remote: Fingerprint.Fingerprint, i: number, j: number): Promise<boolean> =>
  remote.count === j - i && Fingerprint.equals(remote, await localFingerprint(shell, i, j));

/** True when the store's fingerprint of `range` (listed items i…j-1) is the one the stat cache leads the agent to expect. */
const matchesExpected = async (shell: Shell, remote: Fingerprint.Fingerprint, i: number, j: number, range: Fingerprint.KeyRange): Promise<boolean> =>
  shell.expected !== undefined && (await Expectation.matches(shell.expected, shell, remote, i, j, range));

/**
 * One step in a range whose store fingerprint is the expected one (`Shell.verified`): the items up to
 * the next one that differs from what the stat cache remembers are matched; that one is handed to the
 * processor with the store's version as remembered. No question to the store.
 */
const verifiedStep = async (shell: Shell, from: string, region: Fingerprint.KeyRange, expected: Expectation.Expectation): Promise<void> => {
  const [i, j] = [firstAtOrAfter(shell.listing, from), endIndex(shell, region.lt)];
  const next = await Expectation.nextDiffering(expected, shell, i, j, { gte: from, lt: region.lt });
  const upTo = next === undefined ? j : firstAtOrAfter(shell.listing, next.path);
  if (next === undefined) shell.verified = undefined;
  if (next === undefined || upTo > i) {
    await decide(shell, { _tag: "MatchRange", at: Date.now(), range: { gte: from, lt: next?.path ?? region.lt } });
    shell.itemsDone += upTo - i;
    return;
  }
  if (next.remote !== null) shell.view.learn(next.path, next.remote);
  // The next large file that differs is read while this one is processed.
  const later = Expectation.nextLarge(expected, shell, shell.listing[i] === next.path ? i : i - 1, j);
  if (later !== undefined) shell.tree.readAhead(later);
  // [path, path + NUL) holds the path alone (NUL sorts before "/": its subtree lies after).
  const range = { gte: from, lt: `${next.path}\u0000` };
  await decide(shell, { _tag: "ReceiveStoreMetadata", at: Date.now(), range, entries: next.remote === null ? [] : [[next.path, next.remote]] });
};

/** The store's fingerprint of the whole tree: one number to check the stat cache's memory of the store against. */
const askWhole = async (shell: Shell): Promise<Fingerprint.Fingerprint> => {
  const [reply] = await call(connected(shell).query({ _tag: "Fingerprints", source: shell.options.source, bounds: [""], last: null }));
  const [whole] = await call(Client.decodeResult(t.array(Fingerprint.Fingerprint), reply));
  if (whole === undefined) throw new ClientFailure({ _tag: "QueryFailed", reason: "the store sent no fingerprint" });
  return whole;
};

/** True when the comparison's listing of the host has the path. */
const listed = (shell: Shell, path: string): boolean => shell.listing[firstAtOrAfter(shell.listing, path)] === path;

const endIndex = (shell: Shell, lt: string | null): number => (lt === null ? shell.listing.length : firstAtOrAfter(shell.listing, lt));

/**
 * How many sub-ranges to ask for when splitting a range of `n` local items: 16, or — when most of
 * its siblings differed too (changes are dense) — straight down to ranges of about 4 items, read as
 * metadata where they differ. That saves the levels in between their round trips, and small leaves
 * keep the metadata read close to the items that changed (a leaf's entries cost more bytes than the
 * extra fingerprints).
 */
const partsFor = (n: number, dense: boolean): number => (dense ? Math.min(maxParts, Math.max(fanout, Math.ceil(n / denseLeaf))) : fanout);

/**
 * A range's split: the bounds of its sub-ranges (the first is the range's start), where the range
 * ends, and the store's fingerprints of them; `examined` once its sub-ranges have been compared and
 * what the differing ones need asked for.
 */
export interface Split {
  readonly _tag: "Split";
  readonly bounds: ReadonlyArray<string>;
  readonly lt: string | null;
  readonly remote: ReadonlyArray<Fingerprint.Fingerprint>;
  examined: boolean;
}

/** An answer asked ahead of its range's turn (the range ends at `lt`), and the answer once it has come. */
export interface Ahead {
  readonly lt: string | null;
  readonly answer: Promise<Leaf | Split>;
  arrived?: Leaf | Split;
}

/** Asks the store for the fingerprints of sub-ranges of [from, lt), split by the local items i…j-1. */
const askSplit = async (shell: Shell, client: Client.Client, from: string, lt: string | null, i: number, j: number, dense: boolean): Promise<Split> => {
  const step = Math.ceil((j - i) / partsFor(j - i, dense));
  const bounds = [from];
  for (let k = i + step; k < j; k += step) bounds.push(shell.listing[k]!);
  const [reply] = await call(client.query({ _tag: "Fingerprints", source: shell.options.source, bounds, last: lt }));
  const remote = await call(Client.decodeResult(t.array(Fingerprint.Fingerprint), reply));
  if (remote.length !== bounds.length) throw new ClientFailure({ _tag: "QueryFailed", reason: "the store sent the wrong number of fingerprints" });
  return { _tag: "Split", bounds, lt, remote, examined: false };
};

/**
 * Splits a range that differs: compares its sub-ranges with the store's fingerprints (asked ahead,
 * or now), and asks ahead for the metadata or the split of each sub-range that differs, so one
 * level of the descent costs about one wait, not one per range. A split examined ahead of its turn
 * (`examineArrived`) has done all this already.
 */
const descend = async (shell: Shell, from: string, lt: string | null, i: number, j: number, dense: boolean): Promise<void> => {
  const ahead = await takeAhead(shell, from, "Split");
  if (ahead?.examined === true) return;
  // What the stat cache answers is checked while the store computes its fingerprints.
  const [split] = await Promise.all([ahead ?? askSplit(shell, connected(shell), from, lt, i, j, dense), learnPrints(shell, i, j, false)]);
  await examine(shell, split);
};

/** Compares a split's sub-ranges with the local items, and asks ahead for what each differing one needs. */
const examine = async (shell: Shell, split: Split): Promise<void> => {
  split.examined = true;
  const { bounds, lt, remote } = split;
  const ranges: Array<{ readonly b: string; readonly end: string | null; readonly from: number; readonly to: number; readonly differs: boolean }> = [];
  for (const [k, b] of bounds.entries()) {
    const end = bounds[k + 1] ?? lt;
    const [from, to] = [firstAtOrAfter(shell.listing, b), endIndex(shell, end)];
    const same = (await matchesExpected(shell, remote[k]!, from, to, { gte: b, lt: end })) || (await matches(shell, remote[k]!, from, to));
    ranges.push({ b, end, from, to, differs: !same });
  }
  const denseBelow = 2 * ranges.filter((r) => r.differs).length > ranges.length;
  const small: Array<{ readonly gte: string; readonly lt: string | null }> = [];
  for (const [k, r] of ranges.entries()) {
    shell.fingerprints.set(r.b, { lt: r.end, remote: remote[k]!, dense: denseBelow });
    if (!r.differs || remote[k]!.count === 0) continue;
    if (r.to - r.from <= smallRange) small.push({ gte: r.b, lt: r.end });
    else fetchAhead(shell, r.b, r.end, askSplit(shell, connected(shell), r.b, r.end, r.from, r.to, denseBelow));
  }
  if (small.length === 0) return;
  const leaves = fetchLeaves(shell, connected(shell), small);
  for (const [k, range] of small.entries()) fetchAhead(shell, range.gte, range.lt, leaves.then((all) => all[k]!));
};

/**
 * Examines splits asked ahead whose answers have come (a few at a time, in key order), so the
 * metadata their differing sub-ranges need is on its way while the ranges before them are
 * processed — without this, each range of a dense change waited for its own round trip when the
 * cursor reached it.
 */
const examineArrived = async (shell: Shell): Promise<void> => {
  let examined = 0;
  for (const ahead of shell.prefetched.values()) {
    if (examined === splitsExaminedAhead) return;
    if (ahead.arrived?._tag !== "Split" || ahead.arrived.examined) continue;
    const { bounds, lt } = ahead.arrived;
    await learnPrints(shell, firstAtOrAfter(shell.listing, bounds[0]!), endIndex(shell, lt), false);
    await examine(shell, ahead.arrived);
    examined++;
  }
};

/** What the store holds for some paths (at most `itemBatch`). */
export const askItems = async (shell: Shell, client: Client.Client, paths: ReadonlyArray<string>): Promise<ReadonlyArray<readonly [ItemPath, KnownItem | null]>> => {
  const [reply] = await call(client.query({ _tag: "Items", source: shell.options.source, paths: [...paths] }));
  return (await call(Client.decodeResult(Protocol.Items, reply))) as unknown as ReadonlyArray<readonly [ItemPath, KnownItem | null]>;
};

/** True when the agent must have the store's manifest of an item to send its difference: a file whose content may differ. */
const needsManifest = async (shell: Shell, path: ItemPath, remote: KnownItem): Promise<boolean> => {
  if (remote.meta.type !== "file" || !listed(shell, path)) return false; // a file gone from the host is deleted whole
  const local = await shell.tree.peek(path);
  return local === undefined || !ItemMeta.sameContent(local.meta, remote.meta);
};

/**
 * The paths the store holds in a range, a page at a time (`next`: where the next page starts, or
 * null after the last), without their metadata's manifests.
 */
export const storePaths = async (shell: Shell, client: Client.Client, range: { readonly gte: string; readonly lt: string }): Promise<{ readonly paths: ReadonlyArray<ItemPath>; readonly next: string | null }> => {
  const [reply] = await call(client.query({ _tag: "Leaves", source: shell.options.source, ranges: [range], limit: metadataPage }));
  const [page] = await call(Client.decodeResult(Protocol.LeafPages, reply));
  if (page === undefined) throw new ClientFailure({ _tag: "QueryFailed", reason: "the store sent no page" });
  return { paths: page.entries.map(([p]) => p as ItemPath), next: page.next };
};

/** A small range's store metadata: entries without manifests, and full items where content may differ. */
export interface Leaf {
  readonly _tag: "Leaf";
  readonly next: string | null;
  readonly lite: ReadonlyArray<readonly [ItemPath, KnownItem]>;
  readonly full: ReadonlyArray<readonly [ItemPath, KnownItem | null]>;
}

/**
 * Asks the store for the metadata of small ranges (one `Leaves` query), then for full items where
 * content may differ (one `Items` query for all of them, or a few).
 */
const fetchLeaves = async (shell: Shell, client: Client.Client, ranges: ReadonlyArray<{ readonly gte: string; readonly lt: string | null }>): Promise<ReadonlyArray<Leaf>> => {
  const [reply] = await call(client.query({ _tag: "Leaves", source: shell.options.source, ranges: [...ranges], limit: metadataPage }));
  const pages = await call(Client.decodeResult(Protocol.LeafPages, reply));
  if (pages.length !== ranges.length) throw new ClientFailure({ _tag: "QueryFailed", reason: "the store sent the wrong number of pages" });
  const known = new Map<string, Manifest.Manifest>();
  const wanted: Array<ItemPath> = [];
  for (const page of pages) {
    for (const [p, k] of page.entries as unknown as ReadonlyArray<readonly [ItemPath, KnownItem]>) {
      if (!(await needsManifest(shell, p, k))) continue;
      // The version the store holds is often one the agent read before: its manifest is known here.
      const manifest = shell.tree.manifestOf(p, k.meta.digest);
      if (manifest !== undefined) known.set(p, manifest);
      else wanted.push(p);
    }
  }
  const fetched = new Map<string, KnownItem | null>();
  for (let k = 0; k < wanted.length; k += itemBatch) for (const [p, item] of await askItems(shell, client, wanted.slice(k, k + itemBatch))) fetched.set(p, item);
  return pages.map((page) => {
    const lite = page.entries as unknown as ReadonlyArray<readonly [ItemPath, KnownItem]>;
    const full = lite.flatMap(([p, k]): ReadonlyArray<readonly [ItemPath, KnownItem | null]> => {
      const manifest = known.get(p);
      if (manifest !== undefined) return [[p, { meta: k.meta, manifest }]];
      return fetched.has(p) ? [[p, fetched.get(p)!]] : [];
    });
    return { _tag: "Leaf", next: page.next, lite, full };
  });
};

/**
 * Keeps an answer asked ahead of its range's turn (pipelined on the connection). The answer reflects
 * every event sent before the question; a later event that can reach into other ranges (a directory
 * deleted or renamed) discards what was fetched ahead (`Shell.decide` does).
 */
const fetchAhead = (shell: Shell, from: string, lt: string | null, answer: Promise<Leaf | Split>): void => {
  const ahead: Ahead = { lt, answer };
  // Awaited (and a failure handled) when its turn comes, or dropped.
  answer.then((a) => (ahead.arrived = a), () => undefined);
  shell.prefetched.set(from, ahead);
};

/** The answer of the given kind asked ahead for the range starting at `from`, if any. */
const takeAhead = async <K extends "Leaf" | "Split">(shell: Shell, from: string, kind: K): Promise<Extract<Leaf | Split, { _tag: K }> | undefined> => {
  const ahead = shell.prefetched.get(from);
  shell.prefetched.delete(from);
  const answer = ahead === undefined ? undefined : await ahead.answer;
  return answer?._tag === kind ? (answer as Extract<Leaf | Split, { _tag: K }>) : undefined;
};

/** Reads a range's metadata (fetched ahead, or now), then hands it to the processor. */
const readMetadata = async (shell: Shell, from: string, lt: string | null): Promise<void> => {
  const leaf = (await takeAhead(shell, from, "Leaf")) ?? (await fetchLeaves(shell, connected(shell), [{ gte: from, lt }]))[0]!;
  for (const [p, k] of leaf.full) shell.view.learn(p, k);
  const full = new Map<string, KnownItem | null>(leaf.full);
  const entries = leaf.lite.map(([p, k]) => [p, full.get(p) ?? k] as const);
  await decide(shell, { _tag: "ReceiveStoreMetadata", at: Date.now(), range: { gte: from, lt: leaf.next ?? lt }, entries });
};

/**
 * One step of the range search: a range whose store fingerprint is known is matched when the local
 * one equals it; otherwise a large range is split 16 ways (one query), a small one read as metadata.
 */
export const rangeStep = async (shell: Shell, from: string): Promise<void> => {
  const region = shell.verified;
  if (region !== undefined && shell.expected !== undefined && Fingerprint.contains(region, from)) return verifiedStep(shell, from, region, shell.expected);
  let known = shell.fingerprints.get(from);
  shell.fingerprints.delete(from);
  // With a stat cache, the whole tree's fingerprint first: when the store holds what the cache
  // remembers, that one answer is all the comparison asks of the store.
  if (known === undefined && from === "" && shell.expected !== undefined) {
    const [remote] = await Promise.all([askWhole(shell), Expectation.prepare(shell.expected, shell)]);
    known = { lt: null, remote, dense: false };
  }
  const lt = known?.lt ?? null;
  const [i, j] = [firstAtOrAfter(shell.listing, from), endIndex(shell, lt)];
  if (known !== undefined && shell.expected !== undefined && (await matchesExpected(shell, known.remote, i, j, { gte: from, lt }))) {
    shell.verified = { gte: from, lt };
    return verifiedStep(shell, from, shell.verified, shell.expected);
  }
  if (known !== undefined && (await matches(shell, known.remote, i, j))) {
    await decide(shell, { _tag: "MatchRange", at: Date.now(), range: { gte: from, lt } });
    shell.itemsDone += j - i;
    return;
  }
  // The store holds nothing in the range (its count is exact): every local item in it is new.
  if (known !== undefined && known.remote.count === 0) {
    await decide(shell, { _tag: "ReceiveStoreMetadata", at: Date.now(), range: { gte: from, lt }, entries: [] });
    return;
  }
  // The range lies ahead of every event decided so far, so the answer does not depend on them being
  // sent first — unless one reaches into other ranges (a directory deleted or moved).
  if (shell.outbox.some(reachesOtherRanges)) await flush(shell);
  await examineArrived(shell);
  if (j - i > smallRange) return descend(shell, from, lt, i, j, known?.dense ?? false);
  await readMetadata(shell, from, lt);
};

