/**
 * StoreView — what the agent knows of the store's catalogue: for some paths, the item the store
 * holds (or that it holds none), learned from metadata replies and from every event the agent sends
 * (the store applies them in order before answering anything asked later). Paths it has not learned
 * are asked of the store when needed. It also keeps the digests of chunks the store is known to
 * hold, so an event need not carry bytes the store already has (a moved or copied file costs no data).
 *
 * @example
 * const view = StoreView.make();
 * view.learn("a.txt", known);
 * view.apply(event);             // after deciding it
 * view.get("a.txt")              // KnownItem | null (absent) | undefined (not known here)
 *
 * @module
 */
import * as Event from "../../core/Event.ts";
import type { KnownItem } from "../../core/ItemMeta.ts";
import * as ItemPath from "../../core/ItemPath.ts";
import * as SortedMap from "../../core/SortedMap.ts";

/** The agent's view of the store. */
export type StoreView = ReturnType<typeof make>;

/** An empty view. @category constructors */
export const make = () => {
  // Sorted, so forgetting a directory's subtree visits only that subtree.
  let items = SortedMap.empty<KnownItem | null>();
  const chunks = new Set<string>();

  const forgetSubtree = (dir: string): void => {
    for (const [p] of [...SortedMap.entries(items, ItemPath.subtreeBounds(dir as ItemPath.ItemPath))]) items = SortedMap.remove(items, p);
  };
  const set = (path: string, item: KnownItem | null): void => {
    items = SortedMap.set(items, path, item);
  };
  const learn = (path: string, item: KnownItem | null): void => {
    set(path, item);
    for (const c of item?.manifest ?? []) chunks.add(c.digest);
  };

  /** Follows one event the agent sent. */
  const apply = (e: Event.Event): void => {
    if (!Event.isItemEvent(e)) return;
    switch (e._tag) {
      case "ItemCreated":
      case "ItemWritten":
      case "ItemTruncated":
        if (e.meta.type !== "dir") forgetSubtree(e.path);
        learn(e.path, { meta: e.meta, manifest: e.manifest });
        return;
      case "MetadataChanged": {
        const was = SortedMap.get(items, e.path);
        if (was == null) items = SortedMap.remove(items, e.path);
        else set(e.path, { meta: e.meta, manifest: was.manifest });
        return;
      }
      case "ItemDeleted":
        forgetSubtree(e.path);
        set(e.path, null);
        return;
      case "ItemRenamed": {
        const was = SortedMap.get(items, e.from);
        // A directory's items move with it, as the store moves them (known here or not).
        const below = was?.meta.type === "dir" ? [...SortedMap.entries(items, ItemPath.subtreeBounds(e.from))] : [];
        forgetSubtree(e.from);
        forgetSubtree(e.path);
        set(e.from, null);
        if (was == null) items = SortedMap.remove(items, e.path);
        else set(e.path, { meta: e.meta, manifest: was.manifest });
        for (const [p, item] of below) set(e.path + p.slice(e.from.length), item);
        return;
      }
      default: {
        const never: never = e;
        return never;
      }
    }
  };

  /** The event without the bytes of chunks the store is known to hold. */
  const elide = (e: Event.Event): Event.Event => {
    if (!Event.isContentEvent(e) || e.chunks.length === 0) return e;
    const chunksNeeded = e.chunks.filter((c) => !chunks.has(c.digest));
    return chunksNeeded.length === e.chunks.length ? e : { ...e, chunks: chunksNeeded };
  };

  return {
    get: (path: string): KnownItem | null | undefined => SortedMap.get(items, path),
    learn,
    apply,
    elide,
    clear: (): void => {
      items = SortedMap.empty();
      chunks.clear();
    },
  };
};
