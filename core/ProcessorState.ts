/**
 * ProcessorState — the event processor's state, its internal (agent-only) events, and the table of
 * allowed state transitions (DESIGN §3; US 7,096,392's six states plus idle).
 *
 * @example
 * import * as ProcessorState from "./ProcessorState.ts";
 * ProcessorState.isAllowed("backup", "resync")   // true
 * ProcessorState.isAllowed("idle", "backup")     // false
 *
 * @module
 */
import type * as Event from "./Event.ts";
import type { KeyRange } from "./Fingerprint.ts";
import type { KnownItem } from "./ItemMeta.ts";
import type { ItemPath } from "./ItemPath.ts";
import * as SortedMap from "./SortedMap.ts";

/**
 * A flagged item: why it is flagged, and what the store holds for it (`undefined` = not asked yet,
 * `null` = known absent).
 *
 * @category models
 */
export interface Flag {
  readonly cause: "suspect" | "changed";
  readonly remote: KnownItem | null | undefined;
}

/**
 * The cursor/flag mechanism: the sorted flags (the data list's items that may differ), the cursor
 * (the last key processed; `undefined` before the first), which trust path is running, and how far
 * the store's metadata has been read (`coveredTo`: keys below it are covered; `null` = all).
 *
 * @category models
 */
export interface Sync {
  readonly trust: Event.ResyncTrust;
  readonly cursor: string | undefined;
  readonly flags: SortedMap.SortedMap<Flag>;
  readonly coveredTo: string | null;
}

/** The processor's state. @category models */
export interface ProcessorState {
  readonly _tag: Event.ProcessorStateName;
  readonly source: Event.Identity["source"] | undefined;
  readonly nextSeq: number;
  readonly sync: Sync;
}

/** Nothing protected yet. @category constructors */
export const initial: ProcessorState = {
  _tag: "idle",
  source: undefined,
  nextSeq: 1,
  sync: { trust: "compare", cursor: undefined, flags: SortedMap.empty(), coveredTo: "" },
};

/** Events the processor keeps for itself (they never go to the store). @category models */
export type Internal =
  | { readonly _tag: "ItemsFlagged"; readonly paths: ReadonlyArray<ItemPath>; readonly cause: Flag["cause"] }
  | { readonly _tag: "StoreMetadataReceived"; readonly range: KeyRange; readonly entries: ReadonlyArray<readonly [ItemPath, KnownItem]> }
  | { readonly _tag: "RangeMatched"; readonly range: KeyRange }
  | { readonly _tag: "ItemMetadataReceived"; readonly items: ReadonlyArray<readonly [ItemPath, KnownItem | null]> }
  | { readonly _tag: "ItemProcessed"; readonly path: ItemPath }
  | { readonly _tag: "LiveChangeAbsorbed"; readonly path: ItemPath };

/** What `decide` returns and `evolve` folds: stream events (numbered) and internal ones. @category models */
export type ProcessorEvent = Event.Event | Internal;

/** The transitions the processor may take (DESIGN §3). @category transitions */
export const transitions: ReadonlyArray<readonly [Event.ProcessorStateName, Event.ProcessorStateName]> = [
  ["idle", "upload"],
  ["upload", "backup"],
  ["upload", "blackout"],
  ["backup", "resync"],
  ["backup", "blackout"],
  ["resync", "backup"],
  ["resync", "blackout"],
  ["blackout", "resync"],
  ["backup", "recovery-initiation"],
  ["resync", "recovery-initiation"],
  ["recovery-initiation", "recovery"],
  ["recovery", "backup"],
];

/** True when `from → to` is an allowed transition. @category transitions */
export const isAllowed = (from: Event.ProcessorStateName, to: Event.ProcessorStateName): boolean =>
  transitions.some(([a, b]) => a === from && b === to);

/** True in the states that walk the data list (upload and resync). @category guards */
export const isSyncing = (s: ProcessorState): boolean => s._tag === "upload" || s._tag === "resync";
