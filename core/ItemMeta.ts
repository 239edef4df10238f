/**
 * ItemMeta — what the store and the host know about a data item: its type, size, mode, mtime and
 * content digest, plus the version tag ("base") a change is made against.
 *
 * @example
 * import * as ItemMeta from "./ItemMeta.ts";
 * ItemMeta.versionOf({ type: "file", size: 3, mode: 0o644, mtimeMs: 1, digest, linkTarget: null })
 * // { type: "file", digest }
 *
 * @module
 */
import * as t from "io-ts";
import { Count, FileTime } from "./Codecs.ts";
import * as Digest from "./Digest.ts";
import type { ItemPath } from "./ItemPath.ts";
import type * as Manifest from "./Manifest.ts";

/** File, directory or symbolic link. @category models */
export const ItemType = t.keyof({ file: null, dir: null, symlink: null });
export type ItemType = t.TypeOf<typeof ItemType>;

/** Permission bits (at most 0o7777). @category codecs */
export const Mode = new t.Type<number, number, unknown>(
  "Mode",
  (u): u is number => typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 0o7777,
  (u, c) => (typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 0o7777 ? t.success(u) : t.failure(u, c, "expected permission bits 0..0o7777")),
  (n) => n,
);

/**
 * Metadata of an item after an event. `digest` is the content digest of a file (see
 * `Manifest.contentDigest`) or of a link's target text; `null` for a directory.
 *
 * @category models
 */
export const ItemMeta = t.type({
  type: ItemType,
  size: Count,
  mode: Mode,
  mtimeMs: FileTime,
  digest: t.union([Digest.Digest, t.null]),
  linkTarget: t.union([t.string, t.null]),
});
export type ItemMeta = t.TypeOf<typeof ItemMeta>;

/** What identifies one version of an item's content: its type and digest. @category models */
export const ItemVersion = t.type({ type: ItemType, digest: t.union([Digest.Digest, t.null]) });
export type ItemVersion = t.TypeOf<typeof ItemVersion>;

/**
 * The version a change expects the store to hold: an item version, or `null` for "absent".
 *
 * @category models
 */
export const Base = t.union([ItemVersion, t.null]);
export type Base = t.TypeOf<typeof Base>;

/** The version tag of some metadata. @category destructors */
export const versionOf = (meta: ItemMeta): ItemVersion => ({ type: meta.type, digest: meta.digest });

/** The base that describes an item's current state (absent when `meta` is undefined). @category constructors */
export const baseOf = (meta: ItemMeta | undefined): Base => (meta === undefined ? null : versionOf(meta));

/** Two bases name the same state. @category equivalence */
export const sameBase = (a: Base, b: Base): boolean =>
  a === null || b === null ? a === b : a.type === b.type && a.digest === b.digest;

/** Same type and content. @category equivalence */
export const sameContent = (a: ItemMeta, b: ItemMeta): boolean =>
  a.type === b.type && a.digest === b.digest && a.size === b.size && a.linkTarget === b.linkTarget;

/** Same content and the same mode and mtime. @category equivalence */
export const equals = (a: ItemMeta, b: ItemMeta): boolean =>
  sameContent(a, b) && a.mode === b.mode && a.mtimeMs === b.mtimeMs;

/**
 * An item as the host sees it now: metadata, manifest (empty unless a file) and the bytes of its
 * chunks, so that a difference can be computed without further I/O.
 *
 * @category models
 */
export interface LocalItem {
  readonly path: ItemPath;
  readonly meta: ItemMeta;
  readonly manifest: Manifest.Manifest;
  readonly chunks: ReadonlyMap<string, Uint8Array>;
}

/**
 * An item as the store (or the agent's cache of it) knows it: metadata and manifest.
 *
 * @category models
 */
export interface KnownItem {
  readonly meta: ItemMeta;
  readonly manifest: Manifest.Manifest;
}
