/**
 * Append — validates a batch of one source's events and turns it into one atomic database batch:
 * the log entries, new chunks, and every projection update (catalogue and its item fingerprints,
 * versions, head, statistics),
 * computed by the core's own reducers. All or nothing: any refused event refuses the whole append.
 *
 * @example
 * const current = { source: "src", head, stats };
 * const plan = await Append.plan(db, sha256, { maxEventBytes }, current, events);   // Either<StoreError, Plan>
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as Catalogue from "../core/Catalogue.ts";
import * as Digest from "../core/Digest.ts";
import * as Envelope from "../core/Envelope.ts";
import * as Event from "../core/Event.ts";
import * as Fingerprint from "../core/Fingerprint.ts";
import * as History from "../core/History.ts";
import { compare, isInside, subtreeBounds, type ItemPath } from "../core/ItemPath.ts";
import * as SourceHead from "../core/SourceHead.ts";
import { type BatchOperation, type Database, entries, json, parseJson } from "./Database.ts";
import type { Chunks } from "./Chunks.ts";
import * as Keys from "./Keys.ts";
import type { StoreError } from "./StoreError.ts";

/** One source's counters: events appended, and the bytes of the file versions they wrote (before dedup). */
export interface Stats {
  readonly events: number;
  readonly logicalBytes: number;
}
export const emptyStats: Stats = { events: 0, logicalBytes: 0 };

/** What an accepted append writes, and what it did. */
export interface Plan {
  readonly operations: Array<BatchOperation>;
  /** New chunks the batch needs: staged by the store's `Chunks` before it is written. */
  readonly fresh: ReadonlyMap<string, Uint8Array>;
  readonly head: SourceHead.SourceHead;
  readonly stats: Stats;
  readonly applied: number;
  readonly replayed: number;
}

export const readHead = async (db: Database, source: string): Promise<SourceHead.SourceHead | undefined> => {
  const bytes = await db.get(Keys.head(source));
  return bytes === undefined ? undefined : parseJson<SourceHead.SourceHead>(bytes);
};

export const readStats = async (db: Database, source: string): Promise<Stats> => {
  const bytes = await db.get(Keys.stats(source));
  return bytes === undefined ? emptyStats : parseJson<Stats>(bytes);
};

/** The catalogue as this batch sees it: the database under the batch's own earlier updates. */
interface Overlay {
  readonly prefetch: (events: ReadonlyArray<Event.Event>) => Promise<void>;
  readonly load: (e: Event.Event) => Promise<void>;
  readonly lookup: Catalogue.Lookup;
  readonly record: (updates: ReadonlyArray<Catalogue.Update>) => void;
  /** The chunks the prefetched entries' manifests name: a catalogue entry's chunks are stored (an append checks them; collection keeps them). */
  readonly heldChunks: () => ReadonlySet<string>;
}

const makeOverlay = (db: Database, source: string): Overlay => {
  const loaded = new Map<string, Catalogue.Entry>();
  const changed = new Map<string, Catalogue.Entry | null>();
  const subtrees = new Map<string, Array<readonly [string, Catalogue.Entry]>>();
  const current = (p: string): Catalogue.Entry | undefined => (changed.has(p) ? changed.get(p) ?? undefined : loaded.get(p));
  const prefetch = async (events: ReadonlyArray<Event.Event>): Promise<void> => {
    const paths = [...new Set(events.flatMap((e) => Catalogue.readsOf(e).paths))];
    const values = paths.length === 0 ? [] : await db.getMany(paths.map((p) => Keys.catalogue(source, p)));
    paths.forEach((p, i) => {
      const bytes = values[i];
      if (bytes !== undefined) loaded.set(p, parseJson<Catalogue.Entry>(bytes));
    });
  };
  const load = async (e: Event.Event): Promise<void> => {
    for (const dir of Catalogue.readsOf(e).subtrees) {
      if (current(dir)?.meta.type !== "dir") continue;
      const found: Array<readonly [string, Catalogue.Entry]> = [];
      const bounds = subtreeBounds(dir);
      const range = { gt: Keys.catalogue(source, bounds.gt), lt: Keys.catalogue(source, bounds.lt) };
      for await (const [k, v] of entries(db, range)) found.push([Keys.pathOfCatalogueKey(source, k), parseJson<Catalogue.Entry>(v)]);
      subtrees.set(dir, found);
    }
  };
  const lookup: Catalogue.Lookup = {
    entry: current,
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
  const heldChunks = (): ReadonlySet<string> => new Set([...loaded.values()].flatMap((entry) => entry.manifest.map((c) => c.digest)));
  return { prefetch, load, lookup, record, heldChunks };
};

/** Limits on what one event may be. */
export interface Limits {
  readonly maxEventBytes: number;
}

/**
 * Which of the chunks an append's events name the store already holds: those of the versions they
 * replace are known (a new version of a large file shares most of its chunks with the old one), the
 * rest asked in one read that fetches no chunk bytes.
 */
const storedChunks = async (chunks: Chunks, events: ReadonlyArray<Event.Event>, held: ReadonlySet<string>): Promise<Set<string>> => {
  const named = new Set(events.flatMap((e) => [...Event.chunksOf(e).map((c) => c.digest), ...Event.manifestOf(e).map((c) => c.digest)]));
  const asked = [...named].filter((d) => !held.has(d));
  const present = asked.length === 0 ? [] : await chunks.has(asked);
  return new Set([...[...named].filter((d) => held.has(d)), ...asked.filter((_, i) => present[i] === true)]);
};

const chunkCheck = (
  hash: Digest.HashFunction,
  source: string,
  e: Event.Event,
  stored: ReadonlySet<string>,
  fresh: Map<string, Uint8Array>,
): E.Either<StoreError, void> => {
  for (const c of Event.chunksOf(e)) {
    if (Digest.of(hash, c.bytes) !== c.digest) return E.left({ _tag: "ChunkCorrupt", source, seq: e.seq, digest: c.digest });
    if (!stored.has(c.digest)) fresh.set(c.digest, c.bytes);
  }
  for (const ref of Event.manifestOf(e)) {
    if (!fresh.has(ref.digest) && !stored.has(ref.digest)) return E.left({ _tag: "ChunkMissing", source, seq: e.seq, digest: ref.digest });
  }
  return E.right(undefined);
};

/**
 * Validates `input` (untrusted) as events of `current.source`, given its current head and the store's
 * statistics, and plans their atomic batch.
 *
 * @category append
 */
export const plan = async (
  db: Database,
  chunkStore: Chunks,
  hash: Digest.HashFunction,
  limits: Limits,
  current: { readonly source: string; readonly head: SourceHead.SourceHead; readonly stats: Stats },
  input: ReadonlyArray<unknown>,
): Promise<E.Either<StoreError, Plan>> => {
  const source = current.source;
  let head = current.head;
  let stats = current.stats;
  const events: Array<Event.Event> = [];
  for (const [index, raw] of input.entries()) {
    const decoded = Event.decode(raw);
    if (E.isLeft(decoded)) return E.left({ _tag: "InvalidEvent", index, reason: decoded.left });
    if (decoded.right.source !== source) return E.left({ _tag: "WrongSource", expected: source, got: decoded.right.source });
    events.push(decoded.right);
  }
  const overlay = makeOverlay(db, source);
  await overlay.prefetch(events);
  const stored = await storedChunks(chunkStore, events, overlay.heldChunks());
  const fresh = new Map<string, Uint8Array>();
  const operations: Array<BatchOperation> = [];
  let applied = 0;
  let replayed = 0;
  for (const e of events) {
    if (e.seq <= head.seq) {
      replayed++;
      continue;
    }
    if (e.seq !== head.seq + 1) return E.left({ _tag: "SequenceGap", source, expected: head.seq + 1, got: e.seq });
    const logged = Envelope.encode(Event.withoutChunks(e));
    if (logged.length > limits.maxEventBytes) return E.left({ _tag: "EventTooLarge", source, seq: e.seq, bytes: logged.length, limit: limits.maxEventBytes });
    const chunks = chunkCheck(hash, source, e, stored, fresh);
    if (E.isLeft(chunks)) return chunks;
    await overlay.load(e);
    const updates = Catalogue.updatesFor(e, overlay.lookup);
    if (E.isLeft(updates)) return E.left({ _tag: "StaleBase", source, seq: e.seq, reason: Catalogue.describeError(updates.left) });
    overlay.record(updates.right);
    operations.push({ type: "put", key: Keys.log(source, e.seq), value: logged });
    for (const u of updates.right) {
      const key = Keys.catalogue(source, u.path);
      const fingerprint = Keys.itemFingerprint(source, u.path);
      if (u.entry === null) operations.push({ type: "del", key }, { type: "del", key: fingerprint });
      else operations.push({ type: "put", key, value: json(u.entry) }, { type: "put", key: fingerprint, value: Fingerprint.itemHash(hash, u.path, u.entry.meta) });
    }
    for (const v of History.versionsFor(e, updates.right)) operations.push({ type: "put", key: Keys.version(source, v.path, v.seq), value: json(v) });
    head = SourceHead.view.evolve(head, e);
    const written = Event.isContentEvent(e) ? e.meta.size : 0;
    stats = { ...stats, events: stats.events + 1, logicalBytes: stats.logicalBytes + written };
    applied++;
  }
  if (applied > 0) {
    operations.push({ type: "put", key: Keys.head(source), value: json(head) });
    operations.push({ type: "put", key: Keys.stats(source), value: json(stats) });
  }
  return E.right({ operations, fresh, head, stats, applied, replayed });
};
