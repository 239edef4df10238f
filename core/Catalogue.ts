/**
 * Catalogue — the projection from item path to the item's current metadata and manifest.
 *
 * `updatesFor` computes what one event does to the catalogue as a list of per-key puts and deletes,
 * given a lookup of the current entries; the in-memory view below and the store's LevelDB projection
 * both apply exactly these updates, so the two cannot drift apart. An item event whose `base` differs
 * from the current version is refused (`StaleBase`): no change is applied on a stale base.
 *
 * @example
 * import * as Catalogue from "./Catalogue.ts";
 * const cat = View.fold(Catalogue.view)(events);
 * SortedMap.get(cat.items, "docs/a.txt")?.meta.size
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { absurd } from "./Absurd.ts";
import * as Event from "./Event.ts";
import * as ItemMeta from "./ItemMeta.ts";
import { subtreeBounds, type ItemPath } from "./ItemPath.ts";
import type * as Manifest from "./Manifest.ts";
import * as SortedMap from "./SortedMap.ts";
import type { View } from "./View.ts";

/** What the catalogue holds for one item. @category models */
export interface Entry {
  readonly meta: ItemMeta.ItemMeta;
  readonly manifest: Manifest.Manifest;
  readonly seq: number;
  readonly at: number;
}

/** One key's new value (`null` deletes it). @category models */
export interface Update {
  readonly path: ItemPath;
  readonly entry: Entry | null;
}

/** An item event was computed against a version the catalogue does not hold. @category errors */
export interface StaleBase {
  readonly _tag: "StaleBase";
  readonly path: ItemPath;
  readonly expected: ItemMeta.Base;
  readonly actual: ItemMeta.Base;
}

export type CatalogueError = StaleBase;

/** The readable reason for a refused event. @category errors */
export const describeError = (e: CatalogueError): string => {
  const show = (b: ItemMeta.Base) => (b === null ? "absent" : `${b.type} ${b.digest ?? ""}`.trim());
  return `stale base for ${JSON.stringify(e.path)}: the change expects ${show(e.expected)}, the store holds ${show(e.actual)}`;
};

const checkBase = (path: ItemPath, expected: ItemMeta.Base, current: Entry | undefined): E.Either<StaleBase, void> => {
  const actual = ItemMeta.baseOf(current?.meta);
  return ItemMeta.sameBase(expected, actual) ? E.right(undefined) : E.left({ _tag: "StaleBase", path, expected, actual });
};

const entryOf = (e: Event.Event, meta: ItemMeta.ItemMeta, manifest: Manifest.Manifest): Entry => ({
  meta,
  manifest,
  seq: e.seq,
  at: e.at,
});

/** Reads the catalogue while computing updates. @category models */
export interface Lookup {
  /** The current entry of a path. */
  readonly entry: (path: ItemPath) => Entry | undefined;
  /** Every entry strictly inside a directory, in key order (asked only for paths that are directories). */
  readonly subtree: (dir: ItemPath) => Iterable<readonly [ItemPath, Entry]>;
}

/** What a lookup must be able to answer for an event: the paths it reads, and the paths whose subtrees it reads if they are directories. @category projections */
export const readsOf = (e: Event.Event): { readonly paths: ReadonlyArray<ItemPath>; readonly subtrees: ReadonlyArray<ItemPath> } => {
  switch (e._tag) {
    case "ItemCreated":
    case "ItemWritten":
    case "ItemTruncated":
    case "MetadataChanged":
    case "ItemDeleted":
      return { paths: [e.path], subtrees: [e.path] };
    case "ItemRenamed":
      return { paths: [e.from, e.path], subtrees: [e.from, e.path] };
    default:
      return { paths: [], subtrees: [] };
  }
};

/** Removes everything under `path` when it is a directory (only directories have subtrees). */
const removeSubtree = (lookup: Lookup, path: ItemPath, current: Entry | undefined): Array<Update> =>
  current?.meta.type === "dir" ? Array.from(lookup.subtree(path), ([p]) => ({ path: p, entry: null })) : [];

const replacing = (lookup: Lookup, path: ItemPath, current: Entry | undefined, meta: ItemMeta.ItemMeta): Array<Update> =>
  meta.type !== "dir" ? removeSubtree(lookup, path, current) : [];

/**
 * What an event does to the catalogue, as per-key updates in order.
 *
 * A directory's removal removes everything under it; its rename moves everything under it; an item
 * of another type that replaces a directory removes the directory's subtree. Every item event is
 * first checked against its base.
 *
 * @category projections
 */
export const updatesFor = (e: Event.Event, lookup: Lookup): E.Either<CatalogueError, ReadonlyArray<Update>> => {
  if (!Event.isItemEvent(e)) return E.right([]);
  switch (e._tag) {
    case "ItemCreated":
    case "ItemWritten":
    case "ItemTruncated": {
      const current = lookup.entry(e.path);
      return E.map((): ReadonlyArray<Update> => [
        ...replacing(lookup, e.path, current, e.meta),
        { path: e.path, entry: entryOf(e, e.meta, e.manifest) },
      ])(checkBase(e.path, e.base, current));
    }
    case "MetadataChanged": {
      const current = lookup.entry(e.path);
      return E.map((): ReadonlyArray<Update> => [{ path: e.path, entry: entryOf(e, e.meta, current?.manifest ?? []) }])(
        checkBase(e.path, e.base, current),
      );
    }
    case "ItemDeleted": {
      const current = lookup.entry(e.path);
      return E.map((): ReadonlyArray<Update> => [...removeSubtree(lookup, e.path, current), { path: e.path, entry: null }])(
        checkBase(e.path, e.base, current),
      );
    }
    case "ItemRenamed":
      return renamed(e, lookup);
    default:
      return absurd(e);
  }
};

const renamed = (e: Event.ItemRenamed, lookup: Lookup): E.Either<CatalogueError, ReadonlyArray<Update>> => {
  const source = lookup.entry(e.from);
  const target = lookup.entry(e.path);
  const checked = E.flatMap(() => checkBase(e.path, e.targetBase, target))(checkBase(e.from, e.base, source));
  return E.map((): ReadonlyArray<Update> => {
    if (e.from === e.path) return [{ path: e.path, entry: entryOf(e, e.meta, source?.manifest ?? []) }];
    const moved = source?.meta.type !== "dir" ? [] : Array.from(lookup.subtree(e.from), ([path, entry]) => ({
      path: (e.path + path.slice(e.from.length)) as ItemPath,
      entry: { ...entry, seq: e.seq, at: e.at },
    }));
    return [
      ...removeSubtree(lookup, e.path, target),
      ...removeSubtree(lookup, e.from, source),
      { path: e.from, entry: null },
      { path: e.path, entry: entryOf(e, e.meta, source?.manifest ?? []) },
      ...moved,
    ];
  })(checked);
};

/** The catalogue of one source: the last applied sequence number and the items. @category models */
export interface Catalogue {
  readonly head: number;
  readonly items: SortedMap.SortedMap<Entry>;
}

/** The empty catalogue. @category constructors */
export const empty: Catalogue = { head: 0, items: SortedMap.empty() };

/** A lookup over an in-memory catalogue. @category constructors */
export const lookupIn = (items: SortedMap.SortedMap<Entry>): Lookup => ({
  entry: (p) => SortedMap.get(items, p),
  subtree: (dir) => SortedMap.entries(items, subtreeBounds(dir)) as Iterable<readonly [ItemPath, Entry]>,
});

/**
 * Applies one event strictly: refuses a stale base; ignores an already-applied sequence number.
 *
 * @category projections
 */
export const apply = (state: Catalogue, e: Event.Event): E.Either<CatalogueError, Catalogue> => {
  if (e.seq <= state.head) return E.right(state);
  return E.map((updates: ReadonlyArray<Update>) => ({
    head: e.seq,
    items: updates.reduce(
      (items, u) => (u.entry === null ? SortedMap.remove(items, u.path) : SortedMap.set(items, u.path, u.entry)),
      state.items,
    ),
  }))(updatesFor(e, lookupIn(state.items)));
};

/**
 * The catalogue as a view. A log holds only events the store accepted, so a refused event cannot
 * occur in a fold; should one appear, it is skipped and the state is kept.
 *
 * @category projections
 */
export const view: View<Catalogue, Event.Event> = {
  initialState: empty,
  evolve: (state, e) => E.getOrElse(() => state)(apply(state, e)),
};

/** The entry's state as an item known to the store. @category destructors */
export const knownItem = (entry: Entry): ItemMeta.KnownItem => ({ meta: entry.meta, manifest: entry.manifest });
