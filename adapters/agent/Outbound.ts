/**
 * Outbound — how decided events are made small before they are sent (the spool keeps them whole):
 *
 * - A changed file's new chunk is sent as a `Delta` against the store's chunks at the same place in
 *   the version it replaces, when that costs clearly less than the chunk: the store sends the
 *   signatures of those base chunks (one `Signatures` query for a whole batch), the agent matches its
 *   new chunk's pieces against them. A 100-byte edit costs about a kilobyte, not a 32 KiB chunk.
 * - A long manifest goes as the entries between a prefix and a suffix kept from the version it
 *   replaces (an append to a 1 GiB file sends its new tail, not 32,768 chunk references).
 * - A file new to the store (created or moved here) first asks which of its chunks the store already
 *   holds (one `Held` query for a batch): a moved or copied file sends no bytes. Asked only for content
 *   the agent has seen under another path (`seenElsewhere`: new content goes without the wait), and
 *   not while the store held nothing of the source when the agent connected.
 *
 * Both need a query, so they are used for upload and resync, not for live changes (whose latency
 * would grow by the round trip). Deltas are tried only where the old version's chunks can help: the file had one chunk, or the new
 * version keeps some of its chunks (a file rewritten from scratch shares nothing). The query carries a
 * few short hashes of each new chunk's pieces, and the store sends a base's signature only if it has
 * one of them: a rewritten chunk costs a few probe bytes, not a signature.
 *
 * @example
 * const previous = new Map([[event.seq, storeManifestBefore]]);
 * const outgoing = await Effect.runPromise(Outbound.prepare(client, events, previous, sha256, tree.seenElsewhere));
 *
 * @module
 */
import { Effect } from "effect";
import * as Delta from "../../core/Delta.ts";
import type * as Digest from "../../core/Digest.ts";
import * as Event from "../../core/Event.ts";
import * as Manifest from "../../core/Manifest.ts";
import * as Protocol from "../../core/Protocol.ts";
import * as Client from "../wire/Client.ts";

/** A chunk as sent: its bytes, or a delta against chunks the store holds. */
export type SentChunk = Event.ChunkData | { readonly digest: Digest.Digest; readonly delta: Delta.Delta };

/** A manifest as sent: whole, or the entries between those kept from the version it replaces. */
export type SentManifest = Manifest.Manifest | { readonly prefix: number; readonly suffix: number; readonly middle: Manifest.Manifest };

/** An event as sent: a content event's chunks may be deltas, its manifest a difference. */
export type Outgoing =
  | Exclude<Event.Event, Event.ContentEvent>
  | (Omit<Event.ContentEvent, "chunks" | "manifest"> & { readonly chunks: ReadonlyArray<SentChunk>; readonly manifest: SentManifest });

/** Chunks smaller than this are sent whole (a delta could not save enough to pay for its signature). */
const minDeltaChunk = 1024;
/** A delta is sent only when it costs at most this share of the chunk. */
const worthIt = 0.75;
/** Most base chunks one new chunk is compared with. */
const maxBases = 4;
const signaturesPerQuery = 256;
/** Manifests shorter than this are sent whole. */
const minManifestDelta = 8;
const digestsPerQuery = 4096;

/** The bytes a sent chunk costs. */
export const sentBytes = (c: SentChunk): number => ("bytes" in c ? c.bytes.length : Delta.cost(c.delta));

/** The old version's chunks that overlap [from, to) of the new version. */
const overlapping = (old: Manifest.Manifest, from: number, to: number): ReadonlyArray<Digest.Digest> => {
  const out: Array<Digest.Digest> = [];
  let at = 0;
  for (const c of old) {
    if (at < to && at + c.size > from && !out.includes(c.digest)) out.push(c.digest);
    at += c.size;
    if (at >= to || out.length >= maxBases) break;
  }
  return out;
};

/** For each chunk of a content event worth a delta, the base chunks to compare it with. */
const basesOf = (e: Event.ContentEvent, old: Manifest.Manifest): ReadonlyMap<string, ReadonlyArray<Digest.Digest>> => {
  const kept = new Set(old.map((c) => c.digest));
  const out = new Map<string, ReadonlyArray<Digest.Digest>>();
  if (old.length !== 1 && !e.manifest.some((c) => kept.has(c.digest))) return out;
  const wanted = new Set(e.chunks.filter((c) => c.bytes.length >= minDeltaChunk).map((c) => c.digest as string));
  let at = 0;
  for (const c of e.manifest) {
    if (wanted.has(c.digest) && !out.has(c.digest)) {
      const bases = overlapping(old, at, at + c.size);
      if (bases.length > 0) out.set(c.digest, bases);
    }
    at += c.size;
  }
  return out;
};

const inPieces = <A>(all: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> =>
  Array.from({ length: Math.ceil(all.length / size) }, (_, i) => all.slice(i * size, (i + 1) * size));

/** The signatures of base chunks the store holds and that share a probed piece with a new chunk. */
const signatures = (client: Client.Client, probes: ReadonlyMap<Digest.Digest, ReadonlySet<string>>) =>
  Effect.gen(function* () {
    const out = new Map<string, Delta.Signature>();
    for (const part of inPieces([...probes.keys()], signaturesPerQuery)) {
      const [reply] = yield* client.query({ _tag: "Signatures", digests: [...part], probes: part.map((d) => [...probes.get(d)!]) });
      const sigs = yield* Client.decodeResult(Protocol.Signatures, reply);
      part.forEach((d, i) => {
        const s = sigs[i];
        if (s != null) out.set(d, s);
      });
    }
    return out;
  });

/** The digests among these whose chunks the store holds. */
const held = (client: Client.Client, digests: ReadonlyArray<Digest.Digest>) =>
  Effect.gen(function* () {
    const out = new Set<string>();
    for (const part of inPieces(digests, digestsPerQuery)) {
      const [reply] = yield* client.query({ _tag: "Held", digests: [...part] });
      for (const i of yield* Client.decodeResult(Protocol.Held, reply)) if (part[i] !== undefined) out.add(part[i]!);
    }
    return out;
  });

const sameRef = (a: Manifest.ChunkRef | undefined, b: Manifest.ChunkRef | undefined): boolean => a !== undefined && b !== undefined && a.digest === b.digest && a.size === b.size;

/**
 * A long manifest as the entries between a prefix and a suffix kept from the version it replaces
 * (`old`, checked against the event's base), when that keeps enough to pay: an append keeps the
 * front, an insertion near the start keeps the back, an edit keeps both.
 */
const manifestAgainst = (e: Event.ContentEvent, old: Manifest.Manifest | undefined, hash: Digest.HashFunction): SentManifest => {
  const now = e.manifest;
  if (old === undefined || e.base === null || old.length < minManifestDelta || now.length < minManifestDelta) return now;
  let prefix = 0;
  while (prefix < Math.min(old.length, now.length) && sameRef(old[prefix], now[prefix])) prefix++;
  let suffix = 0;
  while (suffix < Math.min(old.length, now.length) - prefix && sameRef(old[old.length - 1 - suffix], now[now.length - 1 - suffix])) suffix++;
  if (prefix + suffix < minManifestDelta || Manifest.contentDigest(old, hash) !== e.base.digest) return now;
  return { prefix, suffix, middle: now.slice(prefix, now.length - suffix) };
};

/** A chunk as a delta when that is clearly cheaper, else as it is; `own` is the chunk's signature. */
const shrink = (c: Event.ChunkData, bases: ReadonlyArray<Digest.Digest> | undefined, own: Delta.Signature | undefined, sigs: ReadonlyMap<string, Delta.Signature>): SentChunk => {
  const usable = (bases ?? []).flatMap((digest) => {
    const signature = sigs.get(digest);
    return signature === undefined ? [] : [{ digest, signature }];
  });
  if (usable.length === 0 || own === undefined) return c;
  const delta = Delta.makeFrom(c.bytes, own, usable);
  return Delta.cost(delta) <= c.bytes.length * worthIt ? { digest: c.digest, delta } : c;
};

/**
 * The events as they should be sent: chunks the store holds left out, others as deltas where that
 * pays, long manifests as differences. `previous` gives, by sequence number, the store's manifest of
 * the version an event replaces; `seenElsewhere` says whether content was seen under another path.
 *
 * @category sending
 */
export const prepare = (
  client: Client.Client,
  events: ReadonlyArray<Event.Event>,
  previous: ReadonlyMap<number, Manifest.Manifest>,
  hash: Digest.HashFunction,
  seenElsewhere: (path: string, digest: string | null) => boolean,
): Effect.Effect<ReadonlyArray<Outgoing>, Client.ClientError> =>
  Effect.gen(function* () {
    const bases = new Map<string, ReadonlyArray<Digest.Digest>>();
    const own = new Map<string, Delta.Signature>();
    const probes = new Map<Digest.Digest, Set<string>>();
    const unknown = new Set<Digest.Digest>();
    for (const e of events) {
      if (!Event.isContentEvent(e) || e.chunks.length === 0) continue;
      // Live changes go at once: a query's round trip would be added to every write's latency.
      if (e.origin === "live") continue;
      const old = previous.get(e.seq);
      if (old !== undefined) {
        for (const [d, b] of basesOf(e, old)) {
          bases.set(d, b);
          const signature = Delta.sign(e.chunks.find((c) => c.digest === d)!.bytes);
          own.set(d, signature);
          for (const base of b) for (const p of Delta.probesOf(signature)) probes.set(base, (probes.get(base) ?? new Set()).add(p));
        }
      } else if (e._tag === "ItemCreated" && client.welcome.head !== null && seenElsewhere(e.path, e.meta.digest)) for (const c of e.chunks) unknown.add(c.digest);
    }
    if (bases.size === 0 && unknown.size === 0 && previous.size === 0) return events;
    const sigs = probes.size === 0 ? new Map<string, Delta.Signature>() : yield* signatures(client, probes);
    const holds = unknown.size === 0 ? new Set<string>() : yield* held(client, [...unknown]);
    return events.map((e): Outgoing => {
      if (!Event.isContentEvent(e)) return e;
      const chunks = e.chunks.filter((c) => !holds.has(c.digest)).map((c) => shrink(c, bases.get(c.digest), own.get(c.digest), sigs));
      return { ...e, chunks, manifest: manifestAgainst(e, previous.get(e.seq), hash) };
    });
  });
