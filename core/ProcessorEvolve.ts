/**
 * ProcessorEvolve — how the processor's state follows its events. Stream events advance the
 * sequence number, change state, and keep each flagged item's view of the store up to date (the
 * store will apply them before answering anything asked later on the same connection); internal
 * events move the cursor and the flags.
 *
 * @example
 * import { evolve } from "./ProcessorEvolve.ts";
 * const next = events.reduce(evolve, state);
 *
 * @module
 */
import { absurd } from "./Absurd.ts";
import * as Event from "./Event.ts";
import { contains } from "./Fingerprint.ts";
import type { KnownItem } from "./ItemMeta.ts";
import { compare, subtreeBounds } from "./ItemPath.ts";
import type { Flag, Internal, ProcessorEvent, ProcessorState, Sync } from "./ProcessorState.ts";
import * as SortedMap from "./SortedMap.ts";

type Flags = SortedMap.SortedMap<Flag>;

const setRemote = (flags: Flags, path: string, remote: KnownItem | null | undefined): Flags => {
  const flag = SortedMap.get(flags, path);
  return flag === undefined ? flags : SortedMap.set(flags, path, { ...flag, remote });
};

const forgetSubtree = (flags: Flags, dir: string, remote: null | undefined): Flags =>
  SortedMap.mapRange(flags, subtreeBounds(dir), (_, flag) => ({ ...flag, remote }));

/** What the store will hold for flagged items once it has applied an item event. */
const trackStore = (flags: Flags, e: Event.ItemEvent): Flags => {
  switch (e._tag) {
    case "ItemCreated":
    case "ItemWritten":
    case "ItemTruncated": {
      const replaced = e.meta.type === "dir" ? flags : forgetSubtree(flags, e.path, null);
      return setRemote(replaced, e.path, { meta: e.meta, manifest: e.manifest });
    }
    case "MetadataChanged": {
      const remote = SortedMap.get(flags, e.path)?.remote;
      return setRemote(flags, e.path, remote == null ? undefined : { meta: e.meta, manifest: remote.manifest });
    }
    case "ItemDeleted":
      return setRemote(forgetSubtree(flags, e.path, null), e.path, null);
    case "ItemRenamed": {
      const source = SortedMap.get(flags, e.from)?.remote;
      const moved = setRemote(forgetSubtree(setRemote(flags, e.from, null), e.from, null), e.path, source == null ? undefined : { meta: e.meta, manifest: source.manifest });
      return forgetSubtree(moved, e.path, undefined);
    }
    default:
      return absurd(e);
  }
};

const restart = (sync: Sync, trust: Event.ResyncTrust): Sync => ({
  trust,
  cursor: undefined,
  coveredTo: "",
  flags: SortedMap.mapRange(sync.flags, {}, (_, flag) => ({ ...flag, remote: undefined })),
});

const evolveStream = (s: ProcessorState, e: Event.Event): ProcessorState => {
  const next: ProcessorState = { ...s, source: e.source, nextSeq: e.seq + 1 };
  if (Event.isItemEvent(e)) return { ...next, sync: { ...s.sync, flags: trackStore(s.sync.flags, e) } };
  switch (e._tag) {
    case "AgentStateChanged":
      return { ...next, _tag: e.to, sync: restart(s.sync, e.to === "upload" ? "compare" : s.sync.trust) };
    case "ResyncBegan":
      return { ...next, sync: { ...next.sync, trust: e.trust } };
    case "CheckpointMarked":
    case "UploadBegan":
    case "UploadDone":
    case "ResyncDone":
      return next;
    default:
      return absurd(e);
  }
};

const ahead = (sync: Sync, path: string): boolean => sync.cursor === undefined || compare(path, sync.cursor) > 0;

const evolveInternal = (s: ProcessorState, e: Internal): ProcessorState => {
  const sync = s.sync;
  const withSync = (changes: Partial<Sync>): ProcessorState => ({ ...s, sync: { ...sync, ...changes } });
  switch (e._tag) {
    case "ItemsFlagged": {
      const flag: Flag = { cause: e.cause, remote: undefined };
      return withSync({
        // The first flags of a comparison (the whole listing) are built at once, not inserted one by one.
        flags: SortedMap.size(sync.flags) === 0
          ? SortedMap.fromSortedKeys(e.paths, flag)
          : e.paths.reduce((m, p) => (SortedMap.has(m, p) ? m : SortedMap.set(m, p, flag)), sync.flags),
      });
    }
    case "StoreMetadataReceived": {
      const entries = new Map<string, KnownItem>(e.entries.filter(([p]) => contains(e.range, p) && ahead(sync, p)));
      const bounds = { gte: e.range.gte, lt: e.range.lt ?? undefined, gt: sync.cursor };
      let flags = SortedMap.mapRange(sync.flags, bounds, (p, flag) => ({ ...flag, remote: entries.get(p) ?? null }));
      for (const [p, remote] of entries) if (!SortedMap.has(flags, p)) flags = SortedMap.set(flags, p, { cause: "suspect", remote });
      return withSync({ flags, coveredTo: e.range.lt });
    }
    case "RangeMatched": {
      const bounds = { gte: e.range.gte, lt: e.range.lt ?? undefined, gt: sync.cursor };
      return withSync({ flags: SortedMap.mapRange(sync.flags, bounds, (_, flag) => (flag.cause === "suspect" ? undefined : flag)), coveredTo: e.range.lt });
    }
    case "ItemMetadataReceived":
      return withSync({ flags: e.items.reduce((m, [p, remote]) => (ahead(sync, p) ? setRemote(m, p, remote) : m), sync.flags) });
    case "ItemProcessed":
      return withSync({ flags: SortedMap.remove(sync.flags, e.path), cursor: e.path });
    case "LiveChangeAbsorbed": {
      const flag = SortedMap.get(sync.flags, e.path);
      return withSync({ flags: SortedMap.set(sync.flags, e.path, { cause: "changed", remote: flag?.remote }) });
    }
    default:
      return absurd(e);
  }
};

/**
 * Folds one processor event into the state.
 *
 * @category decider
 */
export const evolve = (s: ProcessorState, e: ProcessorEvent): ProcessorState =>
  "seq" in e ? evolveStream(s, e) : evolveInternal(s, e);
