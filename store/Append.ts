/**
 * Append — validates a batch of one source's events and turns it into one atomic database batch:
 * the log entries, new chunks, and every projection update (catalogue, versions, head, statistics),
 * computed by the core's own reducers. All or nothing: any refused event refuses the whole append.
 *
 * @example
 * const plan = await Append.plan(db, hash, limits, "src", events);   // Either<StoreError, Plan>
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as Catalogue from "../core/Catalogue.ts";
import * as Digest from "../core/Digest.ts";
import * as Envelope from "../core/Envelope.ts";
import * as Event from "../core/Event.ts";
import * as History from "../core/History.ts";
import { compare, isInside, type ItemPath } from "../core/ItemPath.ts";
import * as SourceHead from "../core/SourceHead.ts";
import { type BatchOperation, type Database, entries, json, parseJson } from "./Database.ts";
import * as Keys from "./Keys.ts";
import type { StoreError } from "./StoreError.ts";

/** Store-wide counters. */
export interface Stats {
  readonly events: number;
  readonly chunks: number;
  readonly chunkBytes: number;
  readonly logicalBytes: number;
}
export const emptyStats: Stats = { events: 0, chunks: 0, chunkBytes: 0, logicalBytes: 0 };

/** What an accepted append writes, and what it did. */
export interface Plan {
  readonly operations: Array<BatchOperation>;
  readonly head: SourceHead.SourceHead;
  readonly stats: Stats;
  readonly applied: number;
  readonly replayed: number;
}

export const readHead = async (db: Database, source: string): Promise<SourceHead.SourceHead | undefined> => {
  const bytes = await db.get(Keys.head(source));
  return bytes === undefined ? undefined : parseJson<SourceHead.SourceHead>(bytes);
};

export const readStats = async (db: Database): Promise<Stats> => {
  const bytes = await db.get(Keys.stats);
  return bytes === undefined ? emptyStats : parseJson<Stats>(bytes);
};

/** The catalogue as this batch sees it: the database under the batch's own earlier updates. */
interface Overlay {
  readonly load: (e: Event.Event) => Promise<void>;
  readonly lookup: Catalogue.Lookup;
  readonly record: (updates: ReadonlyArray<Catalogue.Update>) => void;
}

const makeOverlay = (db: Database, source: string): Overlay => {
  const loaded = new Map<string, Catalogue.Entry>();
  const changed = new Map<string, Catalogue.Entry | null>();
  const subtrees = new Map<string, Array<readonly [string, Catalogue.Entry]>>();
  const load = async (e: Event.Event): Promise<void> => {
    const reads = Catalogue.readsOf(e);
    for (const p of reads.paths) {
      if (changed.has(p) || loaded.has(p)) continue;
      const bytes = await db.get(Keys.catalogue(source, p));
      if (bytes !== undefined) loaded.set(p, parseJson<Catalogue.Entry>(bytes));
    }
    for (const dir of reads.subtrees) {
      const found: Array<readonly [string, Catalogue.Entry]> = [];
      const range = { gt: Keys.catalogue(source, dir + "/"), lt: Keys.catalogue(source, dir + "0") };
      for await (const [k, v] of entries(db, range)) found.push([Keys.pathOfCatalogueKey(source, k), parseJson<Catalogue.Entry>(v)]);
      subtrees.set(dir, found);
    }
  };
  const lookup: Catalogue.Lookup = {
    entry: (p) => (changed.has(p) ? changed.get(p) ?? undefined : loaded.get(p)),
    subtree: (dir) => {
      const merged = new Map<string, Catalogue.Entry | null>(subtrees.get(dir) ?? []);
      for (const [p, entry] of changed) if (isInside(p, dir)) merged.set(p, entry);
      const present: Array<readonly [ItemPath, Catalogue.Entry]> = [];
      for (const [p, entry] of merged) if (entry !== null) present.push([p as ItemPath, entry]);
      return present.sort((a, b) => compare(a[0], b[0]));
    },
  };
  const record = (updates: ReadonlyArray<Catalogue.Update>): void => {
    for (const u of updates) changed.set(u.path, u.entry);
  };
  return { load, lookup, record };
};

/** Limits on what one event may be. */
export interface Limits {
  readonly maxEventBytes: number;
}

const chunkCheck = async (
  db: Database,
  hash: Digest.HashFunction,
  source: string,
  e: Event.Event,
  fresh: Map<string, Uint8Array>,
): Promise<E.Either<StoreError, void>> => {
  for (const c of Event.chunksOf(e)) {
    if (Digest.of(hash, c.bytes) !== c.digest) return E.left({ _tag: "ChunkCorrupt", source, seq: e.seq, digest: c.digest });
    if (!fresh.has(c.digest) && (await db.get(Keys.chunk(c.digest))) === undefined) fresh.set(c.digest, c.bytes);
  }
  const manifest = e._tag === "ItemCreated" || e._tag === "ItemWritten" || e._tag === "ItemTruncated" ? e.manifest : [];
  for (const ref of manifest) {
    if (fresh.has(ref.digest)) continue;
    if ((await db.get(Keys.chunk(ref.digest))) === undefined) return E.left({ _tag: "ChunkMissing", source, seq: e.seq, digest: ref.digest });
  }
  return E.right(undefined);
};

/**
 * Validates `input` (untrusted) as events of `source` and plans their atomic batch.
 *
 * @category append
 */
export const plan = async (
  db: Database,
  hash: Digest.HashFunction,
  limits: Limits,
  source: string,
  input: ReadonlyArray<unknown>,
): Promise<E.Either<StoreError, Plan>> => {
  let head = (await readHead(db, source)) ?? SourceHead.empty;
  let stats = await readStats(db);
  const overlay = makeOverlay(db, source);
  const fresh = new Map<string, Uint8Array>();
  const operations: Array<BatchOperation> = [];
  let applied = 0;
  let replayed = 0;
  for (const [index, raw] of input.entries()) {
    const decoded = Event.decode(raw);
    if (E.isLeft(decoded)) return E.left({ _tag: "InvalidEvent", index, reason: decoded.left });
    const e = decoded.right;
    if (e.source !== source) return E.left({ _tag: "WrongSource", expected: source, got: e.source });
    if (e.seq <= head.seq) {
      replayed++;
      continue;
    }
    if (e.seq !== head.seq + 1) return E.left({ _tag: "SequenceGap", source, expected: head.seq + 1, got: e.seq });
    const logged = Envelope.encode(Event.withoutChunks(e));
    if (logged.length > limits.maxEventBytes) return E.left({ _tag: "EventTooLarge", source, seq: e.seq, bytes: logged.length, limit: limits.maxEventBytes });
    const chunks = await chunkCheck(db, hash, source, e, fresh);
    if (E.isLeft(chunks)) return chunks;
    await overlay.load(e);
    const updates = Catalogue.updatesFor(e, overlay.lookup);
    if (E.isLeft(updates)) return E.left({ _tag: "StaleBase", source, seq: e.seq, reason: Catalogue.describeError(updates.left) });
    overlay.record(updates.right);
    operations.push({ type: "put", key: Keys.log(source, e.seq), value: logged });
    for (const u of updates.right) {
      const key = Keys.catalogue(source, u.path);
      operations.push(u.entry === null ? { type: "del", key } : { type: "put", key, value: json(u.entry) });
    }
    for (const v of History.versionsFor(e, updates.right)) operations.push({ type: "put", key: Keys.version(source, v.path, v.seq), value: json(v) });
    head = SourceHead.view.evolve(head, e);
    const written = Event.chunksOf(e).reduce((n, c) => n + c.bytes.length, 0);
    stats = { ...stats, events: stats.events + 1, logicalBytes: stats.logicalBytes + written };
    applied++;
  }
  for (const [digest, bytes] of fresh) {
    operations.push({ type: "put", key: Keys.chunk(digest), value: bytes });
    stats = { ...stats, chunks: stats.chunks + 1, chunkBytes: stats.chunkBytes + bytes.length };
  }
  if (applied > 0) {
    operations.push({ type: "put", key: Keys.head(source), value: json(head) });
    operations.push({ type: "put", key: Keys.stats, value: json(stats) });
  }
  return E.right({ operations, head, stats, applied, replayed });
};
