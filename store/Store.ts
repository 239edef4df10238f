/**
 * Store — the remote store: one event-sourced log per source plus its projections, on any database
 * that fits the `Database` port (classic-level by default). Appends to one source are serialised;
 * different sources proceed in parallel. An append resolves only once its batch is durable.
 *
 * @example
 * import * as Store from "./Store.ts";
 * const store = await Store.openClassic("/var/lib/tidemark", { hash: sha256 });
 * await store.append("src", events);                 // Right({ head, applied, replayed })
 * for await (const v of store.treeAsOf("src", 42)) console.log(v.path);
 *
 * @module
 */
import { ClassicLevel } from "classic-level";
import * as E from "fp-ts/lib/Either.js";
import { randomUUID } from "node:crypto";
import * as Catalogue from "../core/Catalogue.ts";
import * as Digest from "../core/Digest.ts";
import { describeErrors } from "../core/Codecs.ts";
import * as t from "io-ts";
import * as Envelope from "../core/Envelope.ts";
import * as Event from "../core/Event.ts";
import * as Fingerprint from "../core/Fingerprint.ts";
import * as History from "../core/History.ts";
import type { KnownItem } from "../core/ItemMeta.ts";
import { compare, type ItemPath } from "../core/ItemPath.ts";
import * as SourceHead from "../core/SourceHead.ts";
import * as SortedMap from "../core/SortedMap.ts";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as Protocol from "../core/Protocol.ts";
import * as Append from "./Append.ts";
import * as Chunks from "./Chunks.ts";
import { makeDirectory } from "./Directory.ts";
import * as FingerprintIndex from "./FingerprintIndex.ts";
import * as Retention from "./Retention.ts";
import { type BatchOperation, batches, type Database, entries, fromLevel, parseJson } from "./Database.ts";
import * as Keys from "./Keys.ts";
import type { StoreError } from "./StoreError.ts";

/** Options for opening a store. */
export interface Options {
  readonly hash: Digest.HashFunction;
  /** Largest event, without chunk bytes, once encoded (default 16 MiB). */
  readonly maxEventBytes?: number;
  /** Sync every append to disk before acknowledging it (default true). */
  readonly sync?: boolean;
  /** Where chunk bytes live (default: values in the database). */
  readonly chunks?: Chunks.Chunks;
  /** Most item fingerprints kept in memory, over all sources, to answer range fingerprints (default 2,000,000: about 200 MB). */
  readonly indexedItems?: number;
}

/** What an accepted append did. */
export interface Appended {
  readonly head: SourceHead.SourceHead;
  readonly applied: number;
  readonly replayed: number;
}

/** Store-wide figures. */
export interface Statistics {
  readonly events: number;
  readonly logicalBytes: number;
  readonly chunks: number;
  readonly chunkBytes: number;
  readonly dedupRatio: number;
}

/** A page of catalogue metadata and where the next page starts (`null` at the end). */
export interface MetadataPage {
  readonly entries: ReadonlyArray<readonly [ItemPath, KnownItem]>;
  readonly next: string | null;
}

export type Store = ReturnType<typeof make>;

/**
 * A store on an opened database.
 *
 * @category constructors
 */
export const make = (db: Database, options: Options) => {
  const limits = { maxEventBytes: options.maxEventBytes ?? 16 * 1024 * 1024 };
  const chunkStore = options.chunks ?? Chunks.inDatabase(db);
  const queues = new Map<string, Promise<unknown>>();
  const serialised = <A>(source: string, task: () => Promise<A>): Promise<A> => {
    const run = (queues.get(source) ?? Promise.resolve()).then(task, task);
    queues.set(source, run.catch(() => undefined));
    return run;
  };

  // This store is its database's only writer, so heads and statistics are read once and then kept
  // here, updated only after a batch that changed them is durable.
  const heads = new Map<string, SourceHead.SourceHead | undefined>();
  const counters = new Map<string, Append.Stats>();
  const head = async (source: string): Promise<SourceHead.SourceHead | undefined> => {
    if (!heads.has(source)) heads.set(source, await Append.readHead(db, source));
    return heads.get(source);
  };
  const sourceStats = async (source: string): Promise<Append.Stats> => {
    const known = counters.get(source) ?? (await Append.readStats(db, source));
    counters.set(source, known);
    return known;
  };

  // Chunk collection must not run while an append that has checked which chunks exist is in flight:
  // appends pass a gate that collection closes, and collection waits for the appends already inside.
  let gate: Promise<void> = Promise.resolve();
  const inFlight = new Set<Promise<unknown>>();

  const append = async (source: string, events: ReadonlyArray<unknown>): Promise<E.Either<StoreError, Appended>> => {
    await gate;
    const running = appendNow(source, events);
    inFlight.add(running);
    return running.finally(() => inFlight.delete(running));
  };

  const appendNow = (source: string, events: ReadonlyArray<unknown>): Promise<E.Either<StoreError, Appended>> =>
    serialised(source, async () => {
      const current = { source, head: (await head(source)) ?? SourceHead.empty, stats: await sourceStats(source) };
      const planned = await Append.plan(db, chunkStore, options.hash, limits, current, events);
      if (E.isLeft(planned)) return planned;
      const { operations, applied, replayed } = planned.right;
      if (operations.length > 0) {
        const chunkOperations = await chunkStore.stage(planned.right.fresh);
        await db.batch([...operations, ...chunkOperations], { sync: options.sync ?? true });
        indexCommitted(source, operations);
        heads.set(source, planned.right.head);
        counters.set(source, planned.right.stats);
      }
      return E.right({ head: planned.right.head, applied, replayed });
    });

  /**
   * Stores chunks ahead of the append that names them (content too large for one message), each
   * checked against its digest. Chunks no version comes to reference are freed by `collectChunks`.
   */
  const putChunks = async (input: ReadonlyArray<unknown>): Promise<E.Either<StoreError, number>> => {
    const decoded = t.array(Event.ChunkData).decode(input);
    if (E.isLeft(decoded)) return E.left({ _tag: "InvalidChunks", reason: describeErrors(decoded.left) });
    const bad = decoded.right.find((c) => Digest.of(options.hash, c.bytes) !== c.digest);
    if (bad !== undefined) return E.left({ _tag: "InvalidChunks", reason: `the bytes of chunk ${bad.digest} do not match its digest` });
    await gate;
    const present = await chunkStore.has(decoded.right.map((c) => c.digest));
    const fresh = new Map(decoded.right.filter((_, i) => !present[i]).map((c) => [c.digest, c.bytes] as const));
    if (fresh.size > 0) await db.batch(await chunkStore.stage(fresh), { sync: false });
    return E.right(fresh.size);
  };

  async function* sources(): AsyncGenerator<readonly [string, SourceHead.SourceHead]> {
    for await (const [k, v] of entries(db, Keys.headRange)) yield [Keys.sourceOfHeadKey(k), parseJson<SourceHead.SourceHead>(v)];
  }

  const catalogueBounds = (source: string, range: Fingerprint.KeyRange) => ({
    gte: Keys.catalogue(source, range.gte),
    lt: range.lt === null ? Keys.catalogueRange(source).lt : Keys.catalogue(source, range.lt),
  });

  async function* catalogue(source: string, range: Fingerprint.KeyRange = Fingerprint.everything): AsyncGenerator<readonly [ItemPath, Catalogue.Entry]> {
    for await (const [k, v] of entries(db, catalogueBounds(source, range))) yield [Keys.pathOfCatalogueKey(source, k) as ItemPath, parseJson<Catalogue.Entry>(v)];
  }

  /**
   * `metadata` without manifests for several ranges in ascending key order (a split's small ranges), by
   * one iterator that seeks to each: an iterator per range cost three round trips to the database's
   * thread apiece.
   */
  const leaves = async (source: string, ranges: ReadonlyArray<Fingerprint.KeyRange>, limit: number): Promise<ReadonlyArray<MetadataPage>> => {
    // Each range ends before the next begins (only the last may run to the end); otherwise one by one.
    const ordered = ranges.every((r, k) => {
      const next = ranges[k + 1];
      return next === undefined ? true : r.lt !== null && compare(r.lt, next.gte) <= 0 && (next.lt === null || compare(next.gte, next.lt) < 0);
    });
    if (!ordered || ranges.length === 0) return Promise.all(ranges.map((r) => metadata(source, r, limit, false)));
    const it = db.iterator(catalogueBounds(source, { gte: ranges[0]!.gte, lt: ranges[ranges.length - 1]!.lt }));
    try {
      const pages: Array<MetadataPage> = [];
      for (const range of ranges) {
        it.seek(Keys.catalogue(source, range.gte));
        const end = range.lt === null ? null : Keys.catalogue(source, range.lt);
        const out: Array<readonly [ItemPath, KnownItem]> = [];
        let next: ItemPath | null = null;
        read: for (;;) {
          const batch = await it.nextv(Math.min(limit + 1, 64));
          if (batch.length === 0) break;
          for (const [k, v] of batch) {
            if (end !== null && compare(k, end) >= 0) break read;
            const path = Keys.pathOfCatalogueKey(source, k) as ItemPath;
            if (out.length === limit) {
              next = path;
              break read;
            }
            out.push([path, { meta: parseJson<Catalogue.Entry>(v).meta, manifest: [] }]);
          }
        }
        pages.push({ entries: out, next });
      }
      return pages;
    } finally {
      await it.close();
    }
  };

  /** Up to `limit` entries of a range, for resync. */
  const metadata = async (source: string, range: Fingerprint.KeyRange, limit = 1000, manifests = true): Promise<MetadataPage> => {
    const out: Array<readonly [ItemPath, KnownItem]> = [];
    for await (const batch of batches(db, catalogueBounds(source, range), limit + 1)) {
      for (const [k, v] of batch) {
        const path = Keys.pathOfCatalogueKey(source, k) as ItemPath;
        if (out.length === limit) return { entries: out, next: path };
        const entry = parseJson<Catalogue.Entry>(v);
        out.push([path, manifests ? Catalogue.knownItem(entry) : { meta: entry.meta, manifest: [] }]);
      }
    }
    return { entries: out, next: null };
  };

  /**
   * The fingerprints of consecutive ranges `[bounds[i], bounds[i+1])`, the last ending at `last`
   * (`null` = the end), in one scan.
   */
  const fingerprints = async (source: string, bounds: ReadonlyArray<string>, last: string | null): Promise<ReadonlyArray<Fingerprint.Fingerprint>> => {
    if (bounds.length === 0) return [];
    if (ascending(bounds, last)) return FingerprintIndex.ranges(await fingerprintIndex(source), bounds, last);
    return scanFingerprints(source, bounds, last);
  };

  const ascending = (bounds: ReadonlyArray<string>, last: string | null): boolean =>
    bounds.every((b, k) => k === 0 || compare(bounds[k - 1]!, b) < 0) && (last === null || compare(bounds[bounds.length - 1]!, last) < 0);

  /** `fingerprints` by a scan of the `f` projection (for bounds out of order, which the index does not answer as a scan would). */
  const scanFingerprints = async (source: string, bounds: ReadonlyArray<string>, last: string | null): Promise<ReadonlyArray<Fingerprint.Fingerprint>> => {
    const out = bounds.map(() => Fingerprint.empty);
    let at = 0;
    for await (const batch of itemFingerprints(source, { gte: bounds[0]!, lt: last })) {
      for (const [path, h] of batch) {
        while (at + 1 < bounds.length && compare(path, bounds[at + 1]!) >= 0) at++;
        out[at] = Fingerprint.combine(out[at]!, Fingerprint.fromItemHash(h));
      }
    }
    return out;
  };

  /**
   * Builds the item fingerprint index of a source whose catalogue was written before the index
   * existed (once; appends keep it from then on), with the source's appends held back meanwhile.
   */
  const indexed = new Set<string>();
  const ensureIndexed = async (source: string): Promise<void> => {
    if (indexed.has(source)) return;
    await serialised(source, async () => {
      if ((await db.get(Keys.fingerprintsIndexed(source))) === undefined) {
        let batch: Array<BatchOperation> = [];
        for await (const [path, entry] of catalogue(source)) {
          batch.push({ type: "put", key: Keys.itemFingerprint(source, path), value: Fingerprint.itemHash(options.hash, path, entry.meta) });
          if (batch.length < 1000) continue;
          await db.batch(batch, { sync: false });
          batch = [];
        }
        await db.batch([...batch, { type: "put", key: Keys.fingerprintsIndexed(source), value: new Uint8Array([1]) }], { sync: true });
      }
      indexed.add(source);
    });
  };

  /**
   * The in-memory fingerprint indexes of the sources last asked about (most recent last), built from
   * the `f` projection on first use and kept in step with every append committed after that; at most
   * `indexedItems` entries in all, the least recently used dropped first.
   */
  const indexes = new Map<string, FingerprintIndex.FingerprintIndex>();
  const indexedItems = options.indexedItems ?? 2_000_000;
  const fingerprintIndex = async (source: string): Promise<FingerprintIndex.FingerprintIndex> => {
    const kept = indexes.get(source);
    if (kept !== undefined) {
      indexes.delete(source);
      indexes.set(source, kept);
      return kept;
    }
    await ensureIndexed(source);
    // Built under the source's append lock: no append can commit between the scan and the index's first use.
    return serialised(source, async () => {
      const entries: Array<readonly [string, Uint8Array]> = [];
      for await (const batch of itemFingerprints(source, { gte: "", lt: null })) entries.push(...batch);
      const built = FingerprintIndex.fromSorted(entries);
      indexes.set(source, built);
      let total = [...indexes.values()].reduce((n, x) => n + x.size, 0);
      for (const [other, x] of indexes) {
        if (total <= indexedItems || other === source) break;
        indexes.delete(other);
        total -= x.size;
      }
      return built;
    });
  };

  /** Builds a source's fingerprint index ahead of the comparison that will ask for it (when its agent connects). */
  const warm = async (source: string): Promise<void> => {
    if (!indexes.has(source)) await fingerprintIndex(source);
  };

  /** Brings a source's fingerprint index (if it has one) up to date with a committed batch. */
  const indexCommitted = (source: string, operations: ReadonlyArray<BatchOperation>): void => {
    const index = indexes.get(source);
    if (index === undefined) return;
    const prefix = Keys.itemFingerprintRange(source).gte;
    FingerprintIndex.apply(index, operations.flatMap((op): ReadonlyArray<readonly [string, Uint8Array | null]> =>
      op.key.startsWith(prefix) ? [[Keys.pathOfItemFingerprintKey(source, op.key), op.type === "put" ? op.value : null]] : []));
  };

  /** The item fingerprints of a range of the catalogue, in key order, a batch at a time. */
  async function* itemFingerprints(source: string, range: Fingerprint.KeyRange): AsyncGenerator<ReadonlyArray<readonly [string, Uint8Array]>> {
    await ensureIndexed(source);
    const all = Keys.itemFingerprintRange(source);
    const bounds = { gte: Keys.itemFingerprint(source, range.gte), lt: range.lt === null ? all.lt : Keys.itemFingerprint(source, range.lt) };
    for await (const batch of batches(db, bounds)) yield batch.map(([k, v]) => [Keys.pathOfItemFingerprintKey(source, k), v] as const);
  }

  /** What the catalogue holds for each of `paths` (`null` = absent). */
  const items = async (source: string, paths: ReadonlyArray<string>): Promise<ReadonlyArray<readonly [string, KnownItem | null]>> => {
    const values = await db.getMany(paths.map((p) => Keys.catalogue(source, p)));
    return paths.map((p, i) => [p, values[i] === undefined ? null : Catalogue.knownItem(parseJson<Catalogue.Entry>(values[i]!))] as const);
  };

  /** The fingerprint of a range of the catalogue. */
  const fingerprint = async (source: string, range: Fingerprint.KeyRange): Promise<Fingerprint.Fingerprint> => (await fingerprints(source, [range.gte], range.lt))[0]!;

  /** Every version of one item, oldest first. */
  const history = async (source: string, path: ItemPath): Promise<ReadonlyArray<History.Version>> => {
    const out: Array<History.Version> = [];
    for await (const [, v] of entries(db, Keys.versionsOfPath(source, path))) out.push(parseJson<History.Version>(v));
    return out;
  };

  /** The items present after event `seq`, in key order; streams one item's versions at a time. */
  async function* treeAsOf(source: string, seq: number): AsyncGenerator<History.Version> {
    let group: Array<History.Version> = [];
    for await (const [, bytes] of entries(db, Keys.versionRange(source))) {
      const v = parseJson<History.Version>(bytes);
      if (group.length > 0 && group[0]!.path !== v.path) {
        yield* History.treeAsOf(group, seq);
        group = [];
      }
      group.push(v);
    }
    yield* History.treeAsOf(group, seq);
  }

  /** The log of a source from `fromSeq`, in order, events without chunk bytes (after retention it starts at the cutoff). */
  async function* log(source: string, fromSeq = 1): AsyncGenerator<Event.Event> {
    for await (const [, bytes] of entries(db, { gte: Keys.log(source, fromSeq), lt: Keys.logRange(source).lt })) {
      const e = E.flatMap(Event.decode)(Envelope.decode(bytes));
      if (E.isLeft(e)) throw new Error(`the log of ${source} is damaged: ${e.left}`);
      yield e.right;
    }
  }

  /** The last sequence number at or before a time (0 when none). */
  const seqAt = async (source: string, at: number): Promise<number> => {
    let seq = 0;
    for await (const e of log(source)) {
      if (e.at > at) break;
      seq = e.seq;
    }
    return seq;
  };

  const chunk = (digest: string): Promise<Uint8Array | undefined> => chunkStore.get(digest);
  /** The bytes of each digest (undefined where not stored), read together (`Chunks.getMany`). */
  const chunks = (digests: ReadonlyArray<string>): Promise<ReadonlyArray<Uint8Array | undefined>> => chunkStore.getMany(digests);
  /** For each digest, whether the store holds its chunk. */
  const holds = (digests: ReadonlyArray<string>): Promise<ReadonlyArray<boolean>> => chunkStore.has(digests);

  /**
   * Store-wide figures: events and logical bytes summed over sources, chunks and their bytes counted
   * exactly from the chunk table (a scan), and the dedup ratio logical / stored.
   */
  const statistics = async (): Promise<Statistics> => {
    let events = 0;
    let logicalBytes = 0;
    for await (const [source] of sources()) {
      const s = await sourceStats(source);
      events += s.events;
      logicalBytes += s.logicalBytes;
    }
    let chunks = 0;
    let chunkBytes = 0;
    for await (const [, size] of chunkStore.list()) {
      chunks++;
      chunkBytes += size;
    }
    return { events, logicalBytes, chunks, chunkBytes, dedupRatio: chunkBytes === 0 ? 1 : logicalBytes / chunkBytes };
  };

  /**
   * Drops history before `beforeSeq` (keeping each item's state there and at named checkpoints, and
   * the latest tree); chunks left unreferenced are freed by `collectChunks`.
   */
  const retain = (source: string, policy: { readonly beforeSeq: number }): Promise<void> =>
    serialised(source, async () => {
      const previous = await Retention.readSnapshot(db, source);
      const cutoff = Math.min(policy.beforeSeq, ((await head(source))?.seq ?? 0) + 1);
      if (cutoff <= (previous?.cutoff ?? 1)) return;
      await db.batch(await Retention.plan(db, source, cutoff), { sync: options.sync ?? true });
    });

  /** Deletes chunks no version references, with appends held back meanwhile. */
  const collectChunks = async (): Promise<{ readonly chunks: number; readonly bytes: number }> => {
    let open = () => {};
    const previous = gate;
    gate = new Promise((resolve) => (open = resolve));
    try {
      await previous;
      await Promise.allSettled([...inFlight]);
      return await Retention.collect(db, chunkStore);
    } finally {
      open();
    }
  };

  /** The base a replay starts from: after retention, the kept versions before the cutoff. */
  const replayBase = async (source: string) => {
    const snapshot = await Retention.readSnapshot(db, source);
    let cat = Catalogue.empty;
    let hist = History.empty;
    if (snapshot === undefined) return { cat, hist, head: SourceHead.empty };
    for await (const [, bytes] of entries(db, Keys.versionRange(source))) {
      const v = parseJson<History.Version>(bytes);
      if (v.seq >= snapshot.cutoff) continue;
      hist = { head: snapshot.cutoff - 1, versions: SortedMap.set(hist.versions, History.versionKey(v.path, v.seq), v) };
      const items = v.meta === null ? SortedMap.remove(cat.items, v.path) : SortedMap.set(cat.items, v.path, { meta: v.meta, manifest: v.manifest, seq: v.seq, at: v.at });
      cat = { head: snapshot.cutoff - 1, items };
    }
    return { cat, hist, head: snapshot.head };
  };

  /** The projections recomputed from the log (after the retention snapshot, if any), with the core's views. */
  const replay = async (source: string) => {
    let { cat, hist, head } = await replayBase(source);
    for await (const e of log(source)) {
      const updates = Catalogue.updatesFor(e, Catalogue.lookupIn(cat.items));
      if (E.isLeft(updates)) throw new Error(`the log of ${source} does not replay: ${Catalogue.describeError(updates.left)}`);
      hist = History.record(hist, e, updates.right);
      cat = Catalogue.view.evolve(cat, e);
      head = SourceHead.view.evolve(head, e);
    }
    return { catalogue: cat, history: hist, head };
  };

  /**
   * The store's generation: a random id made the first time it is asked for, so an agent can tell
   * a store that was replaced or restored from an older copy.
   */
  const generation = async (): Promise<string> => {
    const known = await db.get(Keys.generation);
    if (known !== undefined) return new TextDecoder().decode(known);
    const made = randomUUID();
    await db.batch([{ type: "put", key: Keys.generation, value: new TextEncoder().encode(made) }], { sync: true });
    return made;
  };

  const close = async (): Promise<void> => {
    await chunkStore.close();
    await db.close();
  };


  return { append, putChunks, head, sources, catalogue, metadata, leaves, items, fingerprint, fingerprints, warm, history, treeAsOf, log, seqAt, chunk, chunks, holds, stats: statistics, replay, retain, collectChunks, generation, close, hash: options.hash, db };
};

/**
 * Opens (creating if needed) a LevelDB store on disk: the index and projections in `location/index`,
 * chunk bytes in pack files under `location/packs`.
 *
 * @category constructors
 */
export const openClassic = async (location: string, options: Omit<Options, "chunks">): Promise<Store> => {
  await makeDirectory(location);
  const db = fromLevel(new ClassicLevel<string, Uint8Array>(join(location, "index"), { keyEncoding: "utf8", valueEncoding: "view" }));
  await db.open();
  const chunks = await Chunks.packFiles(db, join(location, "packs"));
  const store = make(db, { ...options, chunks });
  // Only a guard for agents (a store whose marker cannot be written works as well without it).
  await writeFile(join(location, Protocol.storeMarker), await store.generation()).catch(() => undefined);
  return store;
};
