/**
 * Deltas — the store server's side of chunks sent as deltas: an appended event's chunk entry
 * `{ digest, delta }` is rebuilt from the base chunks the store holds into `{ digest, bytes }` before
 * the append is planned (which checks every chunk's bytes against its digest, so a delta that
 * rebuilds the wrong bytes is refused, never stored).
 *
 * @example
 * const out = await Deltas.expand(store, message.events);   // Right(events with bytes) | Left(reason)
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as Delta from "../../core/Delta.ts";
import type { Digest } from "../../core/Digest.ts";
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
 * The events with every delta entry rebuilt into bytes (events without deltas are returned as
 * they are). Never throws.
 *
 * @category deltas
 */
export const expand = async (store: Store, events: ReadonlyArray<unknown>): Promise<E.Either<string, ReadonlyArray<unknown>>> => {
  const wanted = new Set<string>();
  for (const e of events) {
    for (const c of entriesOf(e) ?? []) {
      if (!hasDelta(c)) continue;
      const base = (c.delta as { base?: unknown }).base;
      if (Array.isArray(base)) for (const d of base) if (typeof d === "string") wanted.add(d);
    }
  }
  if (wanted.size === 0) return E.right(events);
  const bases = new Map<string, Uint8Array>();
  for (const d of wanted) {
    const bytes = await store.chunk(d);
    if (bytes !== undefined) bases.set(d, bytes);
  }
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
