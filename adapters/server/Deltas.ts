/**
 * Deltas — the store server's side of what agents send as differences, rebuilt before the append is
 * planned:
 *
 * - a chunk entry `{ digest, delta }` becomes `{ digest, bytes }` from the base chunks the store holds
 *   (the append then checks every chunk's bytes against its digest: a delta that rebuilds the wrong
 *   bytes is refused, never stored);
 * - a manifest sent as `{ prefix, suffix, middle }` (the first and last entries kept from the version
 *   the event replaces, named by its `base`) becomes the whole list again, and must hash to the
 *   event's content digest.
 *
 * @example
 * const out = await Deltas.expand(store, source, message.events, store.chunk);   // Right(events as stored) | Left(reason)
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import * as Delta from "../../core/Delta.ts";
import type { Digest } from "../../core/Digest.ts";
import * as Manifest from "../../core/Manifest.ts";
import type { Store } from "../../store/Store.ts";

type Entry = { readonly digest?: unknown; readonly delta?: unknown };

const entriesOf = (e: unknown): ReadonlyArray<Entry> | undefined => {
  const chunks = typeof e === "object" && e !== null ? (e as { chunks?: unknown }).chunks : undefined;
  return Array.isArray(chunks) ? (chunks as ReadonlyArray<Entry>) : undefined;
};

const hasDelta = (c: Entry): boolean => typeof c === "object" && c !== null && c.delta !== undefined;

/** Rebuilds one entry's bytes, or says why it cannot. */
const rebuild = (c: Entry, bases: ReadonlyMap<string, Uint8Array>): E.Either<string, { readonly digest: unknown; readonly bytes: Uint8Array }> => {
  const delta = Delta.Delta.decode(c.delta);
  if (E.isLeft(delta)) return E.left(`chunk ${String(c.digest)}: the delta is not well formed`);
  const bytes = Delta.apply(delta.right, (d: Digest) => bases.get(d));
  return E.isLeft(bytes) ? E.left(`chunk ${String(c.digest)}: ${Delta.describeError(bytes.left)}`) : E.right({ digest: c.digest, bytes: bytes.right });
};

/**
 * The events with every manifest and chunk sent as a difference rebuilt whole (events without any
 * are returned as they are), base chunks read through `readChunk`. Never throws.
 *
 * @category deltas
 */
export const expand = async (
  store: Store,
  source: string,
  events: ReadonlyArray<unknown>,
  readChunk: (digest: string) => Promise<Uint8Array | undefined>,
): Promise<E.Either<string, ReadonlyArray<unknown>>> => {
  const withManifests = await expandManifests(store, source, events);
  return E.isLeft(withManifests) ? withManifests : expandChunks(readChunk, withManifests.right);
};

/** A manifest sent as a difference from the version its event replaces. */
const ManifestDelta = t.type({ prefix: t.number, suffix: t.number, middle: Manifest.Manifest });

type Raw = { readonly _tag?: unknown; readonly path?: unknown; readonly from?: unknown; readonly manifest?: unknown; readonly base?: unknown; readonly meta?: unknown };

const isManifestDelta = (e: unknown): boolean => {
  const m = typeof e === "object" && e !== null ? (e as Raw).manifest : undefined;
  return typeof m === "object" && m !== null && !Array.isArray(m);
};

type HeldItem = { readonly meta: { readonly digest: string | null }; readonly manifest: Manifest.Manifest };

/** The catalogue's item at `path`, as the manifest rebuild needs it. */
const heldItem = async (store: Store, source: string, path: string): Promise<HeldItem | null> => {
  const [found] = (await store.items(source, [path])) as ReadonlyArray<readonly [string, HeldItem | null]>;
  return found?.[1] ?? null;
};

/** The whole manifest of an event that sent it as a difference, or why it cannot be rebuilt. */
const rebuildManifest = async (store: Store, source: string, raw: Raw, byDigest: ReadonlyMap<string, Manifest.Manifest>): Promise<E.Either<string, Manifest.Manifest>> => {
  const delta = ManifestDelta.decode(raw.manifest);
  const base = (raw.base as { digest?: unknown } | null | undefined)?.digest;
  const digest = (raw.meta as { digest?: unknown } | undefined)?.digest;
  if (E.isLeft(delta) || typeof base !== "string" || typeof digest !== "string" || typeof raw.path !== "string") return E.left("a manifest delta is not well formed");
  const current = byDigest.has(base) ? null : await heldItem(store, source, raw.path);
  const old = byDigest.get(base) ?? (current?.meta.digest === base ? current.manifest : undefined);
  const { prefix, suffix, middle } = delta.right;
  if (old === undefined) return E.left(`${raw.path}: the version a manifest delta names is not held`);
  if (!(Number.isSafeInteger(prefix) && Number.isSafeInteger(suffix) && prefix >= 0 && suffix >= 0 && prefix + suffix <= old.length)) {
    return E.left(`${raw.path}: a manifest delta keeps more than the old manifest has`);
  }
  const manifest = [...old.slice(0, prefix), ...middle, ...old.slice(old.length - suffix)];
  return Manifest.contentDigest(manifest, store.hash) === digest ? E.right(manifest) : E.left(`${raw.path}: a manifest delta rebuilds a different version`);
};

/**
 * Rebuilds manifests sent as differences, from the catalogue or from an earlier event of the same
 * batch (a version written or moved earlier in it).
 */
const expandManifests = async (store: Store, source: string, events: ReadonlyArray<unknown>): Promise<E.Either<string, ReadonlyArray<unknown>>> => {
  if (!events.some(isManifestDelta)) return E.right(events);
  const byDigest = new Map<string, Manifest.Manifest>();
  const out: Array<unknown> = [];
  for (const e of events) {
    const raw = e as Raw;
    const sentAsDelta = isManifestDelta(e);
    const manifest = sentAsDelta ? await rebuildManifest(store, source, raw, byDigest) : E.right(raw.manifest);
    if (E.isLeft(manifest)) return manifest;
    const digest = (raw.meta as { digest?: unknown } | undefined)?.digest;
    if (Array.isArray(manifest.right) && typeof digest === "string") byDigest.set(digest, manifest.right as Manifest.Manifest);
    const moved = raw._tag === "ItemRenamed" && typeof raw.from === "string" ? await heldItem(store, source, raw.from) : null;
    if (moved?.meta.digest != null) byDigest.set(moved.meta.digest, moved.manifest);
    out.push(sentAsDelta ? { ...(e as object), manifest: manifest.right } : e);
  }
  return E.right(out);
};

const expandChunks = async (readChunk: (digest: string) => Promise<Uint8Array | undefined>, events: ReadonlyArray<unknown>): Promise<E.Either<string, ReadonlyArray<unknown>>> => {
  const wanted = new Set<string>();
  for (const e of events) {
    for (const c of entriesOf(e) ?? []) {
      if (!hasDelta(c)) continue;
      const base = (c.delta as { base?: unknown }).base;
      if (Array.isArray(base)) for (const d of base) if (typeof d === "string") wanted.add(d);
    }
  }
  if (wanted.size === 0) return E.right(events);
  // Read at once: each is a database lookup and a file read, a thread-pool round trip apiece.
  const read = await Promise.all([...wanted].map(async (d) => [d, await readChunk(d)] as const));
  const bases = new Map(read.flatMap(([d, bytes]) => (bytes === undefined ? [] : [[d, bytes] as const])));
  const out: Array<unknown> = [];
  for (const e of events) {
    const entries = entriesOf(e);
    if (entries === undefined || !entries.some(hasDelta)) {
      out.push(e);
      continue;
    }
    const chunks: Array<unknown> = [];
    for (const c of entries) {
      if (!hasDelta(c)) chunks.push(c);
      else {
        const rebuilt = rebuild(c, bases);
        if (E.isLeft(rebuilt)) return rebuilt;
        chunks.push(rebuilt.right);
      }
    }
    out.push({ ...(e as object), chunks });
  }
  return E.right(out);
};
