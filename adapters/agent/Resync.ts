/**
 * Resync — the agent's side of the store's conversation: what to do on a welcome (replay the spool,
 * or drop it when the store does not continue it), how to start an upload or a resync, how to take
 * each step the processor asks for (a step of the range search, `RangeSearch`; item metadata;
 * processing one item), and how to decide one live change.
 *
 * @example
 * await Resync.welcome(shell, client.welcome);
 * await Resync.step(shell, ProcessorStep.next(shell.state));
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import * as Event from "../../core/Event.ts";
import * as ItemMeta from "../../core/ItemMeta.ts";
import * as Manifest from "../../core/Manifest.ts";
import type { KnownItem, LocalItem } from "../../core/ItemMeta.ts";
import { compare, firstAtOrAfter, isInside, type ItemPath, subtreeBounds } from "../../core/ItemPath.ts";
import * as Processor from "../../core/Processor.ts";
import * as Protocol from "../../core/Protocol.ts";
import * as Step from "../../core/ProcessorStep.ts";
import { isSyncing } from "../../core/ProcessorState.ts";
import * as SortedMap from "../../core/SortedMap.ts";
import * as Client from "../wire/Client.ts";
import { call, connected, decide, flush, type Shell, transmit } from "./Shell.ts";
import * as Expectation from "./Expectation.ts";
import * as LocalTree from "./LocalTree.ts";
import * as RangeSearch from "./RangeSearch.ts";

/** Forgets the agent's state: the next welcome starts an upload that compares everything. */
export const reset = async (shell: Shell): Promise<void> => {
  shell.state = Processor.initial;
  shell.view.clear();
  shell.needsCompare = true;
  await shell.spool.clear();
};

const sameMark = (e: Event.Event | undefined, mark: Protocol.HeadMark | null): boolean =>
  e !== undefined && mark !== null && e.at === mark.at && e._tag === mark.kind &&
  (("path" in e ? e.path : "label" in e ? e.label : null) ?? null) === mark.name;

/** Re-sends the spooled events the store lacks; false when the store does not continue the spool. */
const replay = async (shell: Shell, head: number, mark: Protocol.HeadMark | null): Promise<boolean> => {
  const pending = shell.spool.pending();
  const expected = shell.state._tag === "idle" ? undefined : shell.state.nextSeq - 1;
  if (pending.length === 0) return expected === undefined || expected === head;
  const first = pending[0]!.seq;
  const last = pending[pending.length - 1]!.seq;
  if (head < first - 1 || head > last) return false;
  if (head >= first && !sameMark(pending.find((e) => e.seq === head), mark)) return false;
  if (expected !== undefined && expected !== last) return false;
  const missing = pending.filter((e) => e.seq > head);
  await shell.spool.write();
  await call(transmit(connected(shell), missing));
  if (missing.length > 0) shell.log(`replayed ${missing.length} spooled events`);
  return true;
};

/** Starts an upload (from idle) or a resync (after a blackout) once the store has welcomed the agent. */
export const welcome = async (shell: Shell, w: Client.Client["welcome"]): Promise<void> => {
  const seen = shell.spool.state().generation;
  let reason: Event.ResyncReason = "store-returned";
  if (seen !== null && seen !== w.generation) {
    shell.log("the store is not the one this agent last wrote to (its generation changed); comparing everything");
    await reset(shell);
    reason = "store-generation-changed";
  }
  await shell.spool.setGeneration(w.generation);
  const head = w.head?.seq ?? 0;
  if (!(await replay(shell, head, w.head))) {
    shell.log(`the store's head (${head}) does not continue this agent's log; comparing everything`);
    await reset(shell);
    reason = "store-gap";
  }
  if (shell.state._tag === "idle") {
    const last = shell.spool.pending().at(-1)?.seq ?? head;
    const listing = await shell.tree.list();
    await refuseStoreInside(shell, listing, w.generation);
    compareAgainst(shell, listing);
    startProgress(shell);
    await decide(shell, { _tag: "Protect", at: Date.now(), source: shell.options.source, nextSeq: last + 1, paths: shell.listing });
    return;
  }
  if (shell.state._tag === "blackout") await begin(shell, reason, shell.needsCompare ? "compare" : "dirty");
};

/**
 * Refuses to protect a tree that holds this store's own data: every event sent would change the
 * store's files, each change another event (seen by hand: a one-file tree's store grew by 10 MB a
 * second). The store is known by its marker file and generation.
 */
const refuseStoreInside = async (shell: Shell, listing: ReadonlyArray<ItemPath>, generation: string): Promise<void> => {
  for (const path of listing) {
    if (path !== Protocol.storeMarker && !path.endsWith(`/${Protocol.storeMarker}`)) continue;
    const marker = join(shell.tree.root, path);
    const found = await readFile(marker, "utf8").catch(() => "");
    if (found.trim() !== generation) continue;
    throw new Error(`the store's data directory ${dirname(marker)} is inside the protected directory, so the store's own writes would be sent to it over and over; keep its --data outside ${shell.tree.root}`);
  }
};

/** Starts a comparison of this listing: nothing learnt yet, the store expected to hold what the stat cache remembers. */
const compareAgainst = (shell: Shell, listing: ReadonlyArray<ItemPath>, expect = true): void => {
  shell.listing = listing;
  shell.prints = [];
  shell.fingerprints = new Map();
  shell.prefetched.clear();
  shell.expected = expect ? Expectation.take(shell.tree, listing) : undefined;
  shell.goneSearched = 0;
  shell.verified = undefined;
};

const startProgress = (shell: Shell): void => {
  shell.syncStartedAt = Date.now();
  shell.itemsDone = 0;
  shell.itemsTotal = Math.max(shell.listing.length, SortedMap.size(shell.state.sync.flags));
};

/** Starts a resync: a full comparison flags every local item, a trusted one only what is flagged. */
export const begin = async (shell: Shell, reason: Event.ResyncReason, trust: Event.ResyncTrust): Promise<void> => {
  // What was decided before goes first: the store answers the comparison's questions as of what it
  // has been sent (a compare begun while an upload's last batch waited unsent found the store without
  // it, and decided the same deletion again: refused as stale, over and over).
  await flush(shell);
  if (trust === "compare") compareAgainst(shell, await shell.tree.list());
  else compareAgainst(shell, [], false);
  await decide(shell, { _tag: "BeginResync", at: Date.now(), reason, trust, paths: shell.listing, hostIntact: true });
  startProgress(shell);
  shell.itemsTotal = SortedMap.size(shell.state.sync.flags);
};

/** Reads an item for deciding; an unreadable one stands in as the store's version, so nothing is sent for it. */
const readLocal = async (shell: Shell, path: ItemPath, remote: KnownItem | null | undefined): Promise<LocalItem | undefined> => {
  try {
    // By stat data first: an item equal to the store's version needs no bytes read.
    const cached = remote == null ? undefined : await shell.tree.peek(path);
    if (cached !== undefined && ItemMeta.equals(cached.meta, remote!.meta)) return cached;
    // Only the chunks the store's version lacks need their bytes.
    const storeHas = remote?.meta.type === "file" && remote.manifest.length > 0 ? Manifest.digests(remote.manifest) : undefined;
    return await shell.tree.read(path, true, storeHas);
  } catch (e) {
    if (!LocalTree.isUnreadable(e)) throw e;
    return remote == null ? undefined : { path, meta: remote.meta, manifest: remote.manifest, chunks: new Map() };
  }
};

/** Asks the store what it holds for some paths, and remembers it. */
const fetchItems = async (shell: Shell, paths: ReadonlyArray<string>): Promise<ReadonlyArray<readonly [ItemPath, KnownItem | null]>> => {
  await flush(shell);
  const items = await RangeSearch.askItems(shell, connected(shell), paths);
  for (const [p, k] of items) shell.view.learn(p, k);
  return items;
};

/** Takes the step the processor asks for. */
export const step = async (shell: Shell, next: Step.Step): Promise<void> => {
  switch (next._tag) {
    case "Nothing":
      return;
    case "ResyncNeeded":
      return begin(shell, "user-requested", "dirty");
    case "NeedRange":
      return RangeSearch.rangeStep(shell, next.from);
    case "NeedItems":
      await decide(shell, { _tag: "ReceiveItemMetadata", at: Date.now(), items: await fetchItems(shell, next.paths) });
      return;
    case "ProcessItem": {
      const local = await readLocal(shell, next.path, next.remote);
      const movedFrom = await movedHereFrom(shell, next.path, local, next.remote);
      // The store's items below the former path that are not here now are gone (asked before the move is sent).
      if (movedFrom !== undefined) await queueGoneBelow(shell, next.path, movedFrom.path);
      const movedTo = movedFrom === undefined ? await movedAwayTo(shell, next.path, local, next.remote) : undefined;
      await decide(shell, { _tag: "ProcessItem", at: Date.now(), path: next.path, local, movedFrom, movedTo });
      // The store's items moved with it that are not here are gone (asked once the move is made).
      if (movedTo !== undefined) await queueGoneBelow(shell, movedTo.path);
      shell.itemsDone++;
      return;
    }
    case "Finish": {
      const trust = shell.state.sync.trust;
      await decide(shell, { _tag: "FinishSync", at: Date.now() });
      if (trust === "compare") shell.needsCompare = false;
      shell.itemsDone = shell.itemsTotal;
      return;
    }
    default: {
      const never: never = next;
      return never;
    }
  }
};

/** The next dirty path, in the order changes were seen. */
export const takeDirty = (shell: Shell): ItemPath => shell.dirty.take() as ItemPath;

/** The byte ranges reported for a path since it was last decided, if all its changes reported them. */
const takeRanges = (shell: Shell, path: string): ReadonlyArray<Event.ByteRange> | undefined => {
  const ranges = shell.ranges.get(path);
  shell.ranges.delete(path);
  return ranges;
};

/** The store's item for a path: from the agent's view, else asked. */
const lookup = async (shell: Shell, path: ItemPath): Promise<KnownItem | undefined> => {
  const seen = shell.view.get(path);
  if (seen !== undefined) return seen ?? undefined;
  // Other changed paths the view does not know are asked in the same query (one round trip for a burst).
  const unknown: Array<string> = [];
  for (const p of shell.dirty) {
    if (unknown.length === RangeSearch.itemBatch - 1) break;
    if (p !== path && shell.view.get(p) === undefined) unknown.push(p);
  }
  const [[, item]] = (await fetchItems(shell, [path, ...unknown])) as [readonly [ItemPath, KnownItem | null]];
  return item ?? undefined;
};

/**
 * Queues the store's items below a directory that are not here any more. A directory moved away and
 * another made or moved into its place before the agent looked is still a directory at that path,
 * with nothing to say its old contents left: they stayed in the store (seen by hand: `mv dir renamed;
 * mkdir dir` left every file of the old `dir` there, and `verify` reported them for good). The store's
 * items are read below `storeDir` (by default `dir`; the former path of a directory about to be sent
 * as moved here).
 */
const queueGoneBelow = async (shell: Shell, dir: ItemPath, storeDir: ItemPath = dir): Promise<void> => {
  await flush(shell);
  const { gt, lt } = subtreeBounds(storeDir);
  for (let gte: string | null = gt; gte !== null;) {
    const page = await RangeSearch.storePaths(shell, connected(shell), { gte, lt });
    for (const stored of page.paths) {
      const p = (dir + stored.slice(storeDir.length)) as ItemPath;
      if (shell.tree.kindOf(p) === undefined) shell.dirty.add(p);
    }
    gte = page.next;
  }
};

/** Longest a path found gone waits for the rest of its burst (`Shell.departing`). */
const departureWaitMs = 1000;

/**
 * True when what the store holds at `path` has left it (gone, or replaced by another file) while
 * other changes wait: its decision waits for them (a move shows as a path gone and another made;
 * deciding the old path first would delete or overwrite in the store what the move then no longer
 * finds). Checked before it is read: the read lets go of the cache entry by which its new path is known.
 */
const waitsForBurst = (shell: Shell, path: ItemPath): boolean => {
  if (shell.departed.delete(path) || shell.departing.remove(path) || shell.dirty.size === 0 || !shell.tree.departed(path)) return false;
  shell.departing.add(path, Date.now());
  return true;
};

/**
 * Queues the paths found gone again: all once the burst is decided, else those that waited long
 * enough (the oldest first: they are in the order they began to wait, so the rest are not visited).
 */
const queueDepartures = (shell: Shell): void => {
  const drained = shell.dirty.size === 0;
  const now = Date.now();
  for (let next = shell.departing.first(); next !== undefined; next = shell.departing.first()) {
    const [path, since] = next;
    if (!drained && now - since < departureWaitMs) return;
    shell.departing.take();
    shell.departed.add(path);
    shell.dirty.add(path);
  }
};

/**
 * Where a live item came from, when it moved: its former path (by inode, `FormerPath`) and what the
 * store holds there. Asked only when the store's version at the new path is not this content.
 */
const movedFrom = async (shell: Shell, former: ItemPath | undefined, local: LocalItem | undefined, known: KnownItem | undefined): Promise<Processor.MovedFrom | undefined> => {
  if (former === undefined || local === undefined || (known !== undefined && ItemMeta.sameContent(known.meta, local.meta))) return undefined;
  const there = await lookup(shell, former);
  return there === undefined ? undefined : { path: former, known: there };
};

/** Most directories new or gone that one comparison looks for elsewhere (each search is a few passes over a list). */
const goneSearches = 64;

/**
 * Where a directory new to the store came from, when it moved while nobody watched (found through
 * its files among those remembered at paths the tree no longer has: `FormerPath.predecessorOf`): a
 * path ahead of the cursor where the store holds a directory. Looked for at most `goneSearches` times
 * a comparison.
 */
const movedHereFrom = async (shell: Shell, path: ItemPath, local: LocalItem | undefined, remote: KnownItem | null): Promise<Processor.MovedFrom | undefined> => {
  const expected = shell.expected;
  if (!isSyncing(shell.state) || expected === undefined || expected.gone.length === 0 || remote !== null || local?.meta.type !== "dir") return undefined;
  if (shell.goneSearched++ >= goneSearches) return undefined;
  const first = firstAtOrAfter(shell.listing, subtreeBounds(path).gt);
  const children = shell.listing.slice(first, first + 16).filter((p) => isInside(p, path));
  const former = shell.tree.predecessorOf(path, children, expected.gone);
  if (former === undefined || Step.isBehindCursor(shell.state, former)) return undefined;
  const known = await lookup(shell, former);
  return known?.meta.type === "dir" ? { path: former, known } : undefined;
};

/**
 * True when no file listed below directory `dir` is one remembered there (the same file, by inode,
 * changed or not): what is there now is new (a directory made in the place of one that moved away).
 */
const allNewBelow = (shell: Shell, expected: Expectation.Expectation, dir: ItemPath): boolean => {
  const { gt, lt } = subtreeBounds(dir);
  const [from, to] = [firstAtOrAfter(shell.listing, gt), firstAtOrAfter(shell.listing, lt)];
  for (let n = from; n < to; n++) if (expected.entryAt(n) !== undefined && !shell.tree.departed(shell.listing[n]!)) return false;
  return true;
};

/**
 * Where a directory the store holds, gone from the tree (or with a new one in its place), went while
 * nobody watched (found through the files remembered below it: `FormerPath.successorOf`): a
 * directory ahead of it and of the cursor, where the store holds nothing. Looked for at most
 * `goneSearches` times a comparison.
 */
const movedAwayTo = async (shell: Shell, path: ItemPath, local: LocalItem | undefined, remote: KnownItem | null): Promise<Processor.MovedTo | undefined> => {
  const expected = shell.expected;
  if (!isSyncing(shell.state) || remote?.meta.type !== "dir" || expected === undefined || (local !== undefined && local.meta.type !== "dir")) return undefined;
  const gone = Expectation.goneBelow(expected, path);
  if (gone.length === 0 || (local !== undefined && !allNewBelow(shell, expected, path)) || shell.goneSearched++ >= goneSearches) return undefined;
  const to = shell.tree.successorOf(path, gone, shell.listing);
  if (to === undefined || compare(to, path) <= 0 || Step.isBehindCursor(shell.state, to)) return undefined;
  const there = await readLocal(shell, to, undefined);
  if (there?.meta.type !== "dir" || (await lookup(shell, to)) !== undefined) return undefined;
  return { path: to, local: there, known: undefined };
};

/**
 * Decides one live change. A new directory's contents are queued too (its watch came late), and for
 * one that arrived in place of another, or moved here, the store's items below it that are gone. A
 * path found gone waits for the rest of its burst (`waitsForBurst`); an item that moved, with its
 * content unchanged, goes as a move.
 */
export const capture = async (shell: Shell, path: ItemPath): Promise<void> => {
  const s = shell.state;
  if (s._tag === "idle") return;
  const forwarded = s._tag === "backup" || (isSyncing(s) && Step.isBehindCursor(s, path));
  const known = forwarded ? await lookup(shell, path) : undefined;
  if (known !== undefined && waitsForBurst(shell, path)) return;
  const local = await readLocal(shell, path, known);
  const formerFile = shell.tree.takeFormer(path);
  const newDirectory = local?.meta.type === "dir" && known?.meta.type !== "dir";
  const children = newDirectory ? await shell.tree.list(path) : [];
  for (const child of children) shell.dirty.add(child);
  const former = !forwarded ? undefined : newDirectory ? shell.tree.formerDirectory(path, children) : formerFile;
  const from = await movedFrom(shell, former, local, known);
  if (shell.arrived.delete(path) && local?.meta.type === "dir" && known?.meta.type === "dir") await queueGoneBelow(shell, path);
  // A directory moved here: the store's items below its former path that are not here now are gone.
  // Asked before the move is sent, so the answer need not wait for the store to move them.
  if (newDirectory && from !== undefined) await queueGoneBelow(shell, path, from.path);
  await decide(shell, { _tag: "CaptureChange", at: Date.now(), path, local, known, ranges: takeRanges(shell, path), movedFrom: from });
  queueDepartures(shell);
  // A burst of live changes goes out as soon as it is decided, not with the resync's next batch.
  if (shell.dirty.size === 0) await flush(shell);
};
