/**
 * Protocol — the messages agents, readers and the store exchange (DESIGN §5), as io-ts codecs. Each
 * frame's payload is an `Envelope` whose header decodes to one `Message`; the server decodes every
 * header before acting on it. Query replies are checked by the client with the result codecs here.
 *
 * Conversation: the client sends `Hello`; the store answers `Challenge` with a nonce; the client
 * proves the shared secret with `Proof` (an HMAC of the nonce, never the secret); the store answers
 * `Welcome` with its generation and the source's head, or `Refused` and closes. Then an agent sends
 * `Append`s (answered by `Ack` once durable; the chunks of very large content may go ahead in
 * `PutChunks` messages; a chunk may travel as `{ digest, delta }`, a `Delta` against chunks the store
 * holds, which the store rebuilds and checks against the digest before the event is applied) and both kinds send `Query`s (answered by `Reply`s, the
 * last with `more: false`, or `Failed`). The store answers a query only after it has applied every
 * append sent before it on the same connection.
 *
 * @example
 * import * as Protocol from "./Protocol.ts";
 * Protocol.decode({ _tag: "Ping", at: 1 })   // Right({ _tag: "Ping", at: 1 })
 * Protocol.decode({ _tag: "Ping" })          // Left("value undefined at at: …")
 *
 * @module
 */
import type * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import * as Delta from "./Delta.ts";
import { Count, decodeWith, Label, Millis, Seq, SourceId } from "./Codecs.ts";
import { ProcessorStateName, ResyncTrust } from "./Event.ts";
import { KeyRange } from "./Fingerprint.ts";
import { ItemMeta } from "./ItemMeta.ts";
import { Manifest } from "./Manifest.ts";

/** The protocol version this code speaks. @category constants */
export const version = 3;

/**
 * The code of a `Refused` that says the store itself failed (its disk full or failing), not the
 * client: an agent keeps its events and tries again later. @category constants
 */
export const storeFailed = "store-failed";

/**
 * The file a store on disk keeps in its data directory, holding its generation (the `Welcome`'s): an
 * agent that finds it, with that generation, inside the tree it protects would send the store its
 * own writes over and over, and refuses to start. @category constants
 */
export const storeMarker = "TIDEMARK-STORE";

const tagged = <Tag extends string, P extends t.Props>(tag: Tag, props: P) =>
  t.type({ _tag: t.literal(tag), ...props }, tag);

/** What a client is: the one agent writing a source, or a reader. @category codecs */
export const Role = t.keyof({ agent: null, reader: null });
export type Role = t.TypeOf<typeof Role>;

const Hex = new t.Type<string, string, unknown>(
  "Hex",
  (u): u is string => typeof u === "string" && /^[0-9a-f]{16,128}$/.test(u),
  (u, c) => (typeof u === "string" && /^[0-9a-f]{16,128}$/.test(u) ? t.success(u) : t.failure(u, c, "expected 16-128 lower-case hex digits")),
  (a) => a,
);

/** Identifies the last event of a source: the agent checks it is the one it sent. @category codecs */
export const HeadMark = t.type({ seq: Count, at: Millis, kind: t.string, name: t.union([t.string, t.null]) });
export type HeadMark = t.TypeOf<typeof HeadMark>;

/** The queries a client may ask. @category codecs */
export const Query = t.union([
  tagged("Sources", {}),
  tagged("Head", { source: SourceId }),
  tagged("Metadata", { source: SourceId, range: KeyRange, limit: Count, manifests: t.boolean }),
  tagged("Leaves", { source: SourceId, ranges: t.array(KeyRange), limit: Count }),
  tagged("Fingerprint", { source: SourceId, range: KeyRange }),
  tagged("Fingerprints", { source: SourceId, bounds: t.array(t.string), last: t.union([t.string, t.null]) }),
  tagged("Items", { source: SourceId, paths: t.array(t.string) }),
  tagged("History", { source: SourceId, path: t.string }),
  tagged("Tree", { source: SourceId, seq: Count, paths: t.array(t.string) }),
  tagged("Chunks", { digests: t.array(t.string) }),
  tagged("Held", { digests: t.array(t.string) }),
  tagged("Signatures", { digests: t.array(t.string), probes: t.array(t.array(t.string)) }),
  tagged("SeqAt", { source: SourceId, at: Millis }),
  tagged("Checkpoint", { source: SourceId, label: Label }),
  tagged("Stats", {}),
]);
export type Query = t.TypeOf<typeof Query>;

/** What an agent says about itself, shown by `status`. @category codecs */
export const AgentReport = t.type({
  state: ProcessorStateName,
  trust: ResyncTrust,
  pending: Count,
  unacknowledged: Count,
  itemsDone: Count,
  itemsTotal: Count,
});
export type AgentReport = t.TypeOf<typeof AgentReport>;

/** Every message, either way. @category codecs */
export const Message = t.union([
  // `writer` (optional): the agent's lasting identity (its spool's). The same writer connecting again
  // takes over its own old connection, which a crash left open (the store has not seen it close yet).
  t.intersection([tagged("Hello", { protocol: t.number, role: Role, source: t.union([SourceId, t.null]), lastSeq: Count }), t.partial({ writer: t.string })]),
  tagged("Challenge", { protocol: t.number, nonce: Hex, secured: t.boolean }),
  tagged("Proof", { mac: t.union([Hex, t.null]) }),
  tagged("Welcome", { generation: t.string, head: t.union([HeadMark, t.null]) }),
  tagged("Refused", { code: t.string, reason: t.string }),
  tagged("Append", { events: t.array(t.unknown) }),
  tagged("PutChunks", { chunks: t.array(t.unknown) }),
  tagged("Ack", { seq: Count }),
  tagged("Query", { id: Count, query: Query }),
  tagged("Reply", { id: Count, more: t.boolean, result: t.unknown }),
  tagged("Failed", { id: Count, reason: t.string }),
  tagged("Report", { report: AgentReport }),
  tagged("CheckpointRequested", { label: Label }),
  tagged("Ping", { at: Millis }),
  tagged("Pong", { at: Millis }),
]);
export type Message = t.TypeOf<typeof Message>;

/** Decodes a frame's header. @category decoding */
export const decode: (u: unknown) => E.Either<string, Message> = decodeWith(Message);

/** A catalogue item as a reply carries it. @category codecs */
export const KnownItem = t.type({ meta: ItemMeta, manifest: Manifest });

/** A reply to `Metadata`. @category codecs */
export const MetadataPage = t.type({ entries: t.array(t.tuple([t.string, KnownItem])), next: t.union([t.string, t.null]) });

/** A reply to `Leaves`: one page (without manifests) per range asked, in order. @category codecs */
export const LeafPages = t.array(MetadataPage);

/** A reply to `Items`. @category codecs */
export const Items = t.array(t.tuple([t.string, t.union([KnownItem, t.null])]));

/** One version of an item, as `History` and `Tree` replies carry it. @category codecs */
export const Version = t.type({
  path: t.string,
  seq: Seq,
  at: Millis,
  kind: t.string,
  meta: t.union([ItemMeta, t.null]),
  manifest: Manifest,
});

/** A reply to `Held`: the positions of the digests whose chunks the store holds. @category codecs */
export const Held = t.array(Count);

/**
 * A reply to `Signatures`: each chunk's signature, or null when the store does not hold it or none of
 * the probes (short piece hashes of the new chunk, in hex) is among its pieces: a chunk rewritten from
 * scratch costs no signature. @category codecs
 */
export const Signatures = t.array(t.union([Delta.Signature, t.null]));

/** The checkpoint a `Checkpoint` query made. @category codecs */
export const CheckpointMade = t.type({ seq: Seq, label: Label });
