/**
 * ProcessorStep — what the event processor needs next, read off its state: store metadata for a
 * range or for some items, the next flagged item to process, or the end of the upload/resync.
 * The shell runs this loop; the decider checks that commands follow it.
 *
 * @example
 * import * as ProcessorStep from "./ProcessorStep.ts";
 * const step = ProcessorStep.next(state);
 * // { _tag: "NeedRange", from: "" } → ask the store, then decide ReceiveStoreMetadata / MatchRange
 *
 * @module
 */
import type { KnownItem } from "./ItemMeta.ts";
import { compare, type ItemPath } from "./ItemPath.ts";
import { isSyncing, type ProcessorState } from "./ProcessorState.ts";
import * as SortedMap from "./SortedMap.ts";

/** The next thing to do. @category models */
export type Step =
  | { readonly _tag: "Nothing" } // idle, backup with nothing flagged, or waiting (blackout, recovery)
  | { readonly _tag: "ResyncNeeded" } // backup with items flagged (after a recovery)
  | { readonly _tag: "NeedRange"; readonly from: string } // metadata or a fingerprint match for [from, …)
  | { readonly _tag: "NeedItems"; readonly paths: ReadonlyArray<ItemPath> } // per-item metadata
  | { readonly _tag: "ProcessItem"; readonly path: ItemPath; readonly remote: KnownItem | null }
  | { readonly _tag: "Finish" }; // the data list is exhausted

/** How many item-metadata requests to batch. @category constants */
export const itemBatch = 64;

const needItems = (state: ProcessorState, from: string): Step => {
  const paths: Array<ItemPath> = [];
  for (const [path, flag] of SortedMap.entries(state.sync.flags, { gte: from })) {
    if (flag.remote !== undefined) break;
    if (state.sync.coveredTo !== null && state.sync.trust === "compare" && compare(path, state.sync.coveredTo) >= 0) break;
    paths.push(path as ItemPath);
    if (paths.length >= itemBatch) break;
  }
  return { _tag: "NeedItems", paths };
};

/**
 * The next step for a state.
 *
 * @category steps
 */
export const next = (state: ProcessorState): Step => {
  if (!isSyncing(state)) {
    return state._tag === "backup" && SortedMap.size(state.sync.flags) > 0 ? { _tag: "ResyncNeeded" } : { _tag: "Nothing" };
  }
  const { trust, cursor, flags, coveredTo } = state.sync;
  const first = SortedMap.firstAfter(flags, cursor);
  const comparing = trust === "compare";
  if (first === undefined) {
    return comparing && coveredTo !== null ? { _tag: "NeedRange", from: coveredTo } : { _tag: "Finish" };
  }
  const [path, flag] = first;
  if (comparing && coveredTo !== null && compare(path, coveredTo) >= 0) return { _tag: "NeedRange", from: coveredTo };
  if (flag.remote === undefined) return needItems(state, path);
  return { _tag: "ProcessItem", path: path as ItemPath, remote: flag.remote };
};

/** The flag of a path, if it is flagged ahead of the cursor. @category steps */
export const flagAt = (state: ProcessorState, path: string) =>
  isBehindCursor(state, path) ? undefined : SortedMap.get(state.sync.flags, path);

/** True when the cursor has passed `path` (it was processed, or needed no processing). @category steps */
export const isBehindCursor = (state: ProcessorState, path: string): boolean =>
  state.sync.cursor !== undefined && compare(path, state.sync.cursor) <= 0;
