/**
 * Generators (fast-check arbitraries) for the core's data. The laws they feed live apart, in
 * `core/laws.ts`, as named predicates.
 *
 * @module
 */
import fc from "fast-check";
import type { SourceId } from "../core/Codecs.ts";
import type { Digest } from "../core/Digest.ts";
import * as Event from "../core/Event.ts";
import type { ItemMeta } from "../core/ItemMeta.ts";
import type { ItemPath } from "../core/ItemPath.ts";

const segmentChars = fc.constantFrom(..."abcxyz019._- ~é中😀/\\");
/** Raw, possibly hostile, relative or absolute path strings. */
export const rawPath: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: segmentChars, maxLength: 24 }),
  fc.array(fc.constantFrom("a", "b", ".", "..", "", "c d", "é", "\u0000", "\ud800"), { maxLength: 6 }).map((s) => s.join("/")),
  fc.string({ maxLength: 30 }),
);

const name = fc.string({ unit: fc.constantFrom(..."abcdexyz0123456789.-_é中😀 "), minLength: 1, maxLength: 8 })
  .filter((s) => s !== "." && s !== "..");
/** Valid item paths, one to three segments deep. */
export const itemPath: fc.Arbitrary<ItemPath> = fc.array(name, { minLength: 1, maxLength: 3 }).map((s) => s.join("/") as ItemPath);

export const digest: fc.Arbitrary<Digest> = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }) as fc.Arbitrary<Digest>;
export const sourceId: fc.Arbitrary<SourceId> = fc.constantFrom("src", "host-1", "db_main") as fc.Arbitrary<SourceId>;
const count = fc.nat({ max: 1 << 30 });

export const meta: fc.Arbitrary<ItemMeta> = fc.oneof(
  fc.record({ type: fc.constant("file" as const), size: count, mode: fc.nat({ max: 0o7777 }), mtimeMs: fc.nat(), digest, linkTarget: fc.constant(null) }),
  fc.record({ type: fc.constant("dir" as const), size: fc.constant(0), mode: fc.nat({ max: 0o7777 }), mtimeMs: fc.nat(), digest: fc.constant(null), linkTarget: fc.constant(null) }),
  fc.record({ type: fc.constant("symlink" as const), size: count, mode: fc.constant(0o777), mtimeMs: fc.nat(), digest, linkTarget: fc.string({ minLength: 1, maxLength: 20 }) }),
);

const base = fc.option(fc.record({ type: fc.constantFrom("file" as const, "dir" as const, "symlink" as const), digest: fc.option(digest, { nil: null }) }), { nil: null });
const manifest = fc.array(fc.record({ digest, size: count }), { maxLength: 4 });
const chunks = fc.array(fc.record({ digest, bytes: fc.uint8Array({ maxLength: 64 }) }), { maxLength: 3 });
const origin = fc.constantFrom("live" as const, "upload" as const, "resync" as const);
const stateName = fc.constantFrom(...(Object.keys(Event.ProcessorStateName.keys) as Array<Event.ProcessorStateName>));

const identity = fc.record({ source: sourceId, seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), at: fc.nat() });

const bodies: { readonly [K in Event.Kind]: fc.Arbitrary<Omit<Extract<Event.Event, { _tag: K }>, "source" | "seq" | "at">> } = {
  ItemCreated: fc.record({ _tag: fc.constant("ItemCreated"), path: itemPath, meta, manifest, chunks, base, origin }),
  ItemWritten: fc.record({ _tag: fc.constant("ItemWritten"), path: itemPath, meta, manifest, chunks, base, origin, ranges: fc.array(fc.record({ offset: count, length: count }), { maxLength: 3 }) }),
  ItemTruncated: fc.record({ _tag: fc.constant("ItemTruncated"), path: itemPath, meta, manifest, chunks, base, origin }),
  ItemDeleted: fc.record({ _tag: fc.constant("ItemDeleted"), path: itemPath, base, origin }),
  ItemRenamed: fc.record({ _tag: fc.constant("ItemRenamed"), from: itemPath, path: itemPath, meta, base, targetBase: base, origin }),
  MetadataChanged: fc.record({ _tag: fc.constant("MetadataChanged"), path: itemPath, meta, base, origin }),
  CheckpointMarked: fc.record({ _tag: fc.constant("CheckpointMarked"), label: fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)) }),
  UploadBegan: fc.record({ _tag: fc.constant("UploadBegan"), items: count }),
  UploadDone: fc.record({ _tag: fc.constant("UploadDone") }),
  ResyncBegan: fc.record({ _tag: fc.constant("ResyncBegan"), reason: fc.constantFrom(...(Object.keys(Event.ResyncReason.keys) as Array<Event.ResyncReason>)), trust: fc.constantFrom("dirty" as const, "compare" as const), items: count }),
  ResyncDone: fc.record({ _tag: fc.constant("ResyncDone") }),
  AgentStateChanged: fc.record({ _tag: fc.constant("AgentStateChanged"), from: stateName, to: stateName, reason: fc.string({ maxLength: 20 }) }),
};

/** Valid events of one kind. */
export const eventOfKind = (kind: Event.Kind): fc.Arbitrary<Event.Event> =>
  fc.tuple(identity, bodies[kind] as fc.Arbitrary<Event.EventBody>).map(([id, body]) => Event.stamp(id, body));

/** Valid events of any kind. */
export const event: fc.Arbitrary<Event.Event> = fc.oneof(...Event.allKinds.map(eventOfKind));

/** Junk: anything JSON can say, plus events with one field broken. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.tuple(event, fc.constantFrom("seq", "path", "meta", "base", "_tag", "source", "chunks"), fc.anything()).map(([e, key, v]) => ({ ...e, [key]: v })),
);
