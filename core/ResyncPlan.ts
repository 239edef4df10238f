/**
 * ResyncPlan — the resync planner: a merge-join of the host's sorted listing with the store's sorted
 * metadata that says, per item, what to do: nothing, upload it whole, send its missing chunks,
 * update its metadata, replace it, delete it, or rename it (content that moved costs no data).
 *
 * @example
 * import * as ResyncPlan from "./ResyncPlan.ts";
 * ResyncPlan.plan(hostListing, storeListing)
 * // [{ _tag: "SendChunks", path: "a" }, { _tag: "Rename", from: "old/b", to: "new/b" }, ...]
 *
 * @module
 */
import { absurd } from "./Absurd.ts";
import * as Difference from "./Difference.ts";
import type { ItemMeta } from "./ItemMeta.ts";
import { compare, type ItemPath } from "./ItemPath.ts";

/** One item of a sorted listing. @category models */
export interface Listed {
  readonly path: ItemPath;
  readonly meta: ItemMeta;
}

/** What to do for one item. @category models */
export type Action =
  | { readonly _tag: "InSync"; readonly path: ItemPath }
  | { readonly _tag: "UploadWhole"; readonly path: ItemPath }
  | { readonly _tag: "SendChunks"; readonly path: ItemPath }
  | { readonly _tag: "UpdateMetadata"; readonly path: ItemPath }
  | { readonly _tag: "Replace"; readonly path: ItemPath }
  | { readonly _tag: "Delete"; readonly path: ItemPath }
  | { readonly _tag: "Rename"; readonly from: ItemPath; readonly to: ItemPath };

/** A pair of the two sides' metadata for one path (either may be absent). @category models */
export interface Joined {
  readonly path: ItemPath;
  readonly host: ItemMeta | undefined;
  readonly store: ItemMeta | undefined;
}

/**
 * Merge-joins two listings sorted in key order (byte order of UTF-8). Lazy: O(1) memory, so it
 * works page by page on a million-item source.
 *
 * @category planning
 */
export function* join(host: Iterable<Listed>, store: Iterable<Listed>): Generator<Joined> {
  const h = host[Symbol.iterator]();
  const s = store[Symbol.iterator]();
  let a = h.next();
  let b = s.next();
  while (!a.done || !b.done) {
    const c = a.done ? 1 : b.done ? -1 : compare(a.value.path, b.value.path);
    if (c === 0) {
      yield { path: a.value!.path, host: a.value!.meta, store: b.value!.meta };
      a = h.next();
      b = s.next();
    } else if (c < 0) {
      yield { path: a.value!.path, host: a.value!.meta, store: undefined };
      a = h.next();
    } else {
      yield { path: b.value!.path, host: undefined, store: b.value!.meta };
      b = s.next();
    }
  }
}

const actionOf = (j: Joined): Action => {
  const kind = Difference.classify(j.host, j.store);
  switch (kind) {
    case "InSync":
    case "UploadWhole":
    case "SendChunks":
    case "UpdateMetadata":
    case "Replace":
    case "Delete":
      return { _tag: kind, path: j.path };
    default:
      return absurd(kind);
  }
};

/** Only non-empty files can be matched by content (an empty file's content says nothing about where it came from). */
const movable = (meta: ItemMeta | undefined): meta is ItemMeta & { digest: string } =>
  meta !== undefined && meta.type === "file" && meta.digest !== null && meta.size > 0;

/**
 * Plans a resync: each joined item's action, in key order, with each upload of content that the
 * store holds under a path the host no longer has turned into a rename (each deleted path is used
 * as a rename source at most once).
 *
 * @category planning
 */
export const plan = (host: Iterable<Listed>, store: Iterable<Listed>): ReadonlyArray<Action> => {
  const joined = Array.from(join(host, store));
  const deletedByDigest = new Map<string, Array<ItemPath>>();
  for (const j of joined) {
    if (j.host === undefined && movable(j.store)) {
      const paths = deletedByDigest.get(j.store.digest) ?? [];
      paths.push(j.path);
      deletedByDigest.set(j.store.digest, paths);
    }
  }
  const renamedFrom = new Set<string>();
  const actions: Array<Action> = [];
  for (const j of joined) {
    const action = actionOf(j);
    const source = action._tag === "UploadWhole" && movable(j.host) ? deletedByDigest.get(j.host.digest)?.shift() : undefined;
    if (source !== undefined) {
      renamedFrom.add(source);
      actions.push({ _tag: "Rename", from: source, to: j.path });
    } else {
      actions.push(action);
    }
  }
  return actions.filter((a) => !(a._tag === "Delete" && renamedFrom.has(a.path)));
};
