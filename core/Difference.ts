/**
 * Difference — compares an item as the host has it with the item as the store has it, and computes
 * the "difference value": the events that bring the store's version to the host's, carrying only
 * the chunks the store's version lacks. The resync planner, the live path and the processor all
 * classify with the one function here.
 *
 * @example
 * import * as Difference from "./Difference.ts";
 * Difference.classify(localMeta, storeMeta)            // "InSync" | "SendChunks" | ...
 * Difference.events(path, local, known, "resync")     // [{ _tag: "ItemWritten", chunks: [...], ... }]
 *
 * @module
 */
import { absurd } from "./Absurd.ts";
import type * as Event from "./Event.ts";
import * as ItemMeta from "./ItemMeta.ts";
import type { ItemPath } from "./ItemPath.ts";
import * as Manifest from "./Manifest.ts";

/** How an item differs. @category models */
export type Classification =
  | "InSync" // nothing to send
  | "UploadWhole" // the store lacks the item
  | "SendChunks" // same type, other content: send the chunks the store lacks
  | "UpdateMetadata" // same content, other mode or mtime
  | "Replace" // the type changed: remove, then create
  | "Delete"; // the host lacks the item

/**
 * Classifies an item from its metadata on each side (`undefined` = absent).
 *
 * @category diffing
 */
export const classify = (local: ItemMeta.ItemMeta | undefined, remote: ItemMeta.ItemMeta | undefined): Classification => {
  if (local === undefined) return remote === undefined ? "InSync" : "Delete";
  if (remote === undefined) return "UploadWhole";
  if (local.type !== remote.type) return "Replace";
  if (!ItemMeta.sameContent(local, remote)) return local.type === "file" ? "SendChunks" : "Replace";
  return ItemMeta.equals(local, remote) ? "InSync" : "UpdateMetadata";
};

const chunkData = (local: ItemMeta.LocalItem, refs: ReadonlyArray<Manifest.ChunkRef>): ReadonlyArray<Event.ChunkData> =>
  refs.map((r) => {
    const bytes = local.chunks.get(r.digest);
    if (bytes === undefined) throw new Error(`local item ${local.path} lacks the bytes of its own chunk ${r.digest}`);
    return { digest: r.digest, bytes };
  });

const created = (local: ItemMeta.LocalItem, base: ItemMeta.Base, origin: Event.Origin): Event.EventBody => ({
  _tag: "ItemCreated",
  path: local.path,
  meta: local.meta,
  manifest: local.manifest,
  chunks: chunkData(local, Manifest.diff(local.manifest, () => false)),
  base,
  origin,
});

/**
 * The events that turn the store's `remote` version of `path` into the host's `local` one.
 *
 * @category diffing
 */
export const events = (
  path: ItemPath,
  local: ItemMeta.LocalItem | undefined,
  remote: ItemMeta.KnownItem | undefined,
  origin: Event.Origin,
): ReadonlyArray<Event.EventBody> => {
  const base = ItemMeta.baseOf(remote?.meta);
  const kind = classify(local?.meta, remote?.meta);
  switch (kind) {
    case "InSync":
      return [];
    case "Delete":
      return [{ _tag: "ItemDeleted", path, base, origin }];
    case "UploadWhole":
      return [created(local!, null, origin)];
    case "Replace":
      return [{ _tag: "ItemDeleted", path, base, origin }, created(local!, null, origin)];
    case "UpdateMetadata":
      return [{ _tag: "MetadataChanged", path, meta: local!.meta, base, origin }];
    case "SendChunks": {
      const have = Manifest.digests(remote!.manifest);
      const body = {
        path,
        meta: local!.meta,
        manifest: local!.manifest,
        chunks: chunkData(local!, Manifest.diff(local!.manifest, (d) => have.has(d))),
        base,
        origin,
      };
      return local!.meta.size < remote!.meta.size
        ? [{ _tag: "ItemTruncated", ...body }]
        : [{ _tag: "ItemWritten", ...body, ranges: [] }];
    }
    default:
      return absurd(kind);
  }
};
