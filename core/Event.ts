/**
 * Event — one fact in a source's stream: identity (source, sequence number, host time, kind), the
 * item's metadata after the event, and the data change. Every kind has an io-ts codec of the same name.
 *
 * Item events carry a `base`: the version of the item they were computed against. The store applies
 * an item event only when its current version equals the base, so a change is never applied on a
 * stale base.
 *
 * @example
 * import * as Event from "./Event.ts";
 * Event.decode(JSON.parse(text))   // Right(event) or Left("value ... at path: expected ...")
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { absurd } from "./Absurd.ts";
import { Bytes, Count, Label, Millis, Seq, SourceId, decodeWith } from "./Codecs.ts";
import * as Digest from "./Digest.ts";
import { ItemPath } from "./ItemPath.ts";
import { Base, ItemMeta } from "./ItemMeta.ts";
import { Manifest } from "./Manifest.ts";

/** Source, sequence number and host time: the identity every event carries. @category models */
export const Identity = t.type({ source: SourceId, seq: Seq, at: Millis });
export type Identity = t.TypeOf<typeof Identity>;

/** The bytes of a chunk the store may lack. @category models */
export const ChunkData = t.type({ digest: Digest.Digest, bytes: Bytes });
export type ChunkData = t.TypeOf<typeof ChunkData>;

/** A written byte range of a file. @category models */
export const ByteRange = t.type({ offset: Count, length: Count });
export type ByteRange = t.TypeOf<typeof ByteRange>;

/** The states of the event processor (DESIGN §3). @category models */
export const ProcessorStateName = t.keyof({
  idle: null,
  upload: null,
  backup: null,
  resync: null,
  blackout: null,
  "recovery-initiation": null,
  recovery: null,
});
export type ProcessorStateName = t.TypeOf<typeof ProcessorStateName>;

/** Why a resync started. @category models */
export const ResyncReason = t.keyof({
  "agent-restarted": null,
  "store-returned": null,
  "watcher-overflow": null,
  "spool-overflow": null,
  "store-gap": null,
  "store-generation-changed": null,
  "sequence-refused": null,
  "user-requested": null,
});
export type ResyncReason = t.TypeOf<typeof ResyncReason>;

/** Which resync path: only the trusted dirty set, or a full comparison by range fingerprints. @category models */
export const ResyncTrust = t.keyof({ dirty: null, compare: null });
export type ResyncTrust = t.TypeOf<typeof ResyncTrust>;

/** Where an event came from: the live stream, the initial upload or a resync. @category models */
export const Origin = t.keyof({ live: null, upload: null, resync: null });
export type Origin = t.TypeOf<typeof Origin>;

const kind = <Tag extends string, P extends t.Props>(tag: Tag, props: P) =>
  t.type({ _tag: t.literal(tag), source: SourceId, seq: Seq, at: Millis, ...props });

const fileChange = {
  path: ItemPath,
  meta: ItemMeta,
  manifest: Manifest,
  chunks: t.readonlyArray(ChunkData),
  base: Base,
  origin: Origin,
};

/** A file, directory or link appeared; a file's chunks that the store may lack ride along. @category kinds */
export const ItemCreated = kind("ItemCreated", fileChange);
export type ItemCreated = t.TypeOf<typeof ItemCreated>;

/** A file's content changed; `ranges` are the written byte ranges when known (capture API). @category kinds */
export const ItemWritten = kind("ItemWritten", { ...fileChange, ranges: t.readonlyArray(ByteRange) });
export type ItemWritten = t.TypeOf<typeof ItemWritten>;

/** A file was cut to `meta.size`. @category kinds */
export const ItemTruncated = kind("ItemTruncated", fileChange);
export type ItemTruncated = t.TypeOf<typeof ItemTruncated>;

/** An item was removed. @category kinds */
export const ItemDeleted = kind("ItemDeleted", { path: ItemPath, base: Base, origin: Origin });
export type ItemDeleted = t.TypeOf<typeof ItemDeleted>;

/** An item moved from `from` to `path` with no change of content; `targetBase` is what `path` held. @category kinds */
export const ItemRenamed = kind("ItemRenamed", {
  from: ItemPath,
  path: ItemPath,
  meta: ItemMeta,
  base: Base,
  targetBase: Base,
  origin: Origin,
});
export type ItemRenamed = t.TypeOf<typeof ItemRenamed>;

/** Mode or mtime changed, content did not. @category kinds */
export const MetadataChanged = kind("MetadataChanged", { path: ItemPath, meta: ItemMeta, base: Base, origin: Origin });
export type MetadataChanged = t.TypeOf<typeof MetadataChanged>;

/** An application-consistent point, named. @category kinds */
export const CheckpointMarked = kind("CheckpointMarked", { label: Label });
export type CheckpointMarked = t.TypeOf<typeof CheckpointMarked>;

/** The initial baseline upload started. @category kinds */
export const UploadBegan = kind("UploadBegan", { items: Count });
export type UploadBegan = t.TypeOf<typeof UploadBegan>;

/** The initial baseline upload finished: the store holds the whole tree. @category kinds */
export const UploadDone = kind("UploadDone", {});
export type UploadDone = t.TypeOf<typeof UploadDone>;

/** A resync started; restore points until `ResyncDone` are not point-in-time consistent. @category kinds */
export const ResyncBegan = kind("ResyncBegan", { reason: ResyncReason, trust: ResyncTrust, items: Count });
export type ResyncBegan = t.TypeOf<typeof ResyncBegan>;

/** A resync finished: the store again equals the host. @category kinds */
export const ResyncDone = kind("ResyncDone", {});
export type ResyncDone = t.TypeOf<typeof ResyncDone>;

/** The agent's event processor changed state. @category kinds */
export const AgentStateChanged = kind("AgentStateChanged", {
  from: ProcessorStateName,
  to: ProcessorStateName,
  reason: t.string,
});
export type AgentStateChanged = t.TypeOf<typeof AgentStateChanged>;

const kinds = {
  ItemCreated,
  ItemWritten,
  ItemTruncated,
  ItemDeleted,
  ItemRenamed,
  MetadataChanged,
  CheckpointMarked,
  UploadBegan,
  UploadDone,
  ResyncBegan,
  ResyncDone,
  AgentStateChanged,
} as const;

/** Every event kind's tag. @category models */
export type Kind = keyof typeof kinds;
export const allKinds = Object.keys(kinds) as ReadonlyArray<Kind>;

/** Any event. @category models */
export type Event =
  | ItemCreated
  | ItemWritten
  | ItemTruncated
  | ItemDeleted
  | ItemRenamed
  | MetadataChanged
  | CheckpointMarked
  | UploadBegan
  | UploadDone
  | ResyncBegan
  | ResyncDone
  | AgentStateChanged;

/** An event that changes an item. @category models */
export type ItemEvent = ItemCreated | ItemWritten | ItemTruncated | ItemDeleted | ItemRenamed | MetadataChanged;

/** An event without its identity, as the processor decides it before numbering. @category models */
export type EventBody = Event extends infer V ? (V extends Event ? Omit<V, "source" | "seq" | "at"> : never) : never;

const isKind = (u: unknown): u is Kind => typeof u === "string" && Object.hasOwn(kinds, u);

/**
 * io-ts codec for any event: it reads `_tag` first and checks the rest against that kind only, so
 * errors name the field that is wrong.
 *
 * @category codecs
 */
export const Event = new t.Type<Event, Event, unknown>(
  "Event",
  (u): u is Event => typeof u === "object" && u !== null && isKind((u as { _tag?: unknown })._tag) &&
    (kinds[(u as { _tag: Kind })._tag] as t.Type<Event, unknown, unknown>).is(u),
  (u, c) => {
    const tag = typeof u === "object" && u !== null ? (u as { _tag?: unknown })._tag : undefined;
    if (!isKind(tag)) return t.failure(u, c, `unknown event kind ${JSON.stringify(tag) ?? "undefined"}`);
    return (kinds[tag] as t.Type<Event, unknown, unknown>).validate(u, c);
  },
  (e) => e,
);

/** Decodes an untrusted value into an event; never throws. @category decoding */
export const decode: (u: unknown) => E.Either<string, Event> = decodeWith(Event);

/** True for the kinds that change an item. @category guards */
export const isItemEvent = (e: Event): e is ItemEvent => {
  switch (e._tag) {
    case "ItemCreated":
    case "ItemWritten":
    case "ItemTruncated":
    case "ItemDeleted":
    case "ItemRenamed":
    case "MetadataChanged":
      return true;
    case "CheckpointMarked":
    case "UploadBegan":
    case "UploadDone":
    case "ResyncBegan":
    case "ResyncDone":
    case "AgentStateChanged":
      return false;
    default:
      return absurd(e);
  }
};

/** An event that carries file content: a manifest and the chunks the store may lack. @category models */
export type ContentEvent = ItemCreated | ItemWritten | ItemTruncated;

/** True for the kinds that carry content. @category guards */
export const isContentEvent = (e: Event): e is ContentEvent =>
  e._tag === "ItemCreated" || e._tag === "ItemWritten" || e._tag === "ItemTruncated";

/** The chunk bytes an event carries (empty for kinds without content). @category destructors */
export const chunksOf = (e: Event): ReadonlyArray<ChunkData> => (isContentEvent(e) ? e.chunks : []);

/** The manifest an event names (empty for kinds without content). @category destructors */
export const manifestOf = (e: Event): Manifest => (isContentEvent(e) ? e.manifest : []);

/** The event without its chunk bytes (as kept in the log once chunks are stored by digest). @category combinators */
export const withoutChunks = (e: Event): Event => (isContentEvent(e) ? { ...e, chunks: [] } : e);

/** Numbers an event body. @category constructors */
export const stamp = (identity: Identity, body: EventBody): Event => ({ ...body, ...identity }) as Event;
