/**
 * Chunks — where the store keeps chunk bytes, behind one small port with two implementations:
 *
 * - `inDatabase`: the bytes are the values of the `k` table (any abstract-level database; memory-level
 *   in tests);
 * - `packFiles`: the bytes are appended to pack files on disk and the `k` table holds their location.
 *   Chosen by measurement for the LevelDB store: LevelDB writes a value to its log, then again to
 *   tables as it compacts, and ingested chunk-sized values at about half the disk's sequential rate
 *   (`npm run bench:ingest`); a pack file takes them at the disk's rate.
 *
 * Either way the index entries go into the append's one atomic batch. New bytes are made durable by
 * `stage` before that batch is written, so no index entry ever points at bytes that are not on disk; a
 * crash in between leaves only unreferenced bytes at a pack's end, and a write that fails (a full disk)
 * none: the pack is cut back to where it ended.
 *
 * @example
 * const chunks = await Chunks.packFiles(db, "/var/lib/tidemark/packs");
 * const operations = await chunks.stage(new Map([[digest, bytes]]));   // bytes durable; put these in the batch
 *
 * @module
 */
import { open, readdir, type FileHandle } from "node:fs/promises";
import { makeDirectory } from "./Directory.ts";
import { join } from "node:path";
import { type BatchOperation, type Database, entries, json, parseJson } from "./Database.ts";
import * as Keys from "./Keys.ts";

/** The port. */
export interface Chunks {
  /** Whether each digest is stored. */
  readonly has: (digests: ReadonlyArray<string>) => Promise<ReadonlyArray<boolean>>;
  /** Makes new chunks durable ahead of the batch that will reference them; returns that batch's operations for them. */
  readonly stage: (chunks: ReadonlyMap<string, Uint8Array>) => Promise<Array<BatchOperation>>;
  readonly get: (digest: string) => Promise<Uint8Array | undefined>;
  /** The bytes of each digest (undefined where not stored), read together: one index lookup for all, and neighbouring bytes in one read. */
  readonly getMany: (digests: ReadonlyArray<string>) => Promise<ReadonlyArray<Uint8Array | undefined>>;
  /** Every stored chunk: digest and size. */
  readonly list: () => AsyncIterable<readonly [string, number]>;
  /** The batch operations that forget chunks (collection). */
  readonly forget: (digests: ReadonlyArray<string>) => Array<BatchOperation>;
  readonly close: () => Promise<void>;
}

const has = (db: Database) => async (digests: ReadonlyArray<string>): Promise<ReadonlyArray<boolean>> =>
  digests.length === 0 ? [] : (await db.hasMany(digests.map(Keys.chunk))).map((x) => x === true);

const forget = (digests: ReadonlyArray<string>): Array<BatchOperation> => digests.map((d) => ({ type: "del", key: Keys.chunk(d) }));

/**
 * Chunk bytes as database values.
 *
 * @category constructors
 */
export const inDatabase = (db: Database): Chunks => ({
  has: has(db),
  stage: async (chunks) => [...chunks].map(([d, bytes]) => ({ type: "put", key: Keys.chunk(d), value: bytes })),
  get: (digest) => db.get(Keys.chunk(digest)),
  getMany: (digests) => db.getMany(digests.map(Keys.chunk)),
  list: async function* () {
    for await (const [key, value] of entries(db, Keys.chunkRange)) yield [Keys.digestOfChunkKey(key), value.length] as const;
  },
  forget,
  close: async () => {},
});

/** Where a chunk lies: pack number, offset, length. */
interface Location {
  readonly p: number;
  readonly o: number;
  readonly n: number;
}

/** A pack is closed for appends once it passes this size. */
const packLimit = 1024 * 1024 * 1024;
/** What `appendPieces` needs of a file: a vectored write (Node's `FileHandle` has one). @category internals */
export interface Appendable {
  readonly writev: (pieces: Array<Uint8Array>) => Promise<{ readonly bytesWritten: number }>;
}

/** Most pieces one vectored write is given (the system's limit is 1,024). */
const piecesPerWrite = 1024;

/**
 * Writes pieces one after another at the end of a file opened for appending, with vectored writes:
 * the chunk bytes are written where they lie (in the frame they arrived in), not copied into one
 * buffer first. A short write goes on from where it stopped.
 *
 * @example
 * await appendPieces(await open("00000001.pack", "a+"), [header, chunkA, chunkB]);
 * @category internals
 */
export const appendPieces = async (file: Appendable, pieces: ReadonlyArray<Uint8Array>): Promise<void> => {
  let rest = pieces.slice();
  while (rest.length > 0) {
    let { bytesWritten } = await file.writev(rest.slice(0, piecesPerWrite));
    let done = 0;
    while (done < rest.length && bytesWritten >= rest[done]!.length) bytesWritten -= rest[done++]!.length;
    rest = rest.slice(done);
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
};

/** Most bytes one read of neighbouring chunks takes (a single larger chunk is read whole). */
const readRun = 8 * 1024 * 1024;

/** How packs are opened: Node's `open`, or one that fails on purpose in a test. @category internals */
export type OpenPack = (path: string, flags: "a+") => Promise<FileHandle>;

const packName = (n: number): string => `${String(n).padStart(8, "0")}.pack`;

/**
 * Chunk bytes in append-only pack files under `dir`, indexed in the database.
 *
 * @category constructors
 */
export const packFiles = async (db: Database, dir: string, openPack: OpenPack = open): Promise<Chunks> => {
  await makeDirectory(dir);
  const numbers = (await readdir(dir)).filter((f) => /^\d{8}\.pack$/.test(f)).map((f) => Number(f.slice(0, 8)));
  let current = numbers.length === 0 ? 1 : Math.max(...numbers);
  // Each pack is opened once: the open itself is kept, so reads of a pack asked for at once (a
  // resync's or restore's batches, in a freshly started store) share it instead of each opening the
  // pack and all but one handle being left for the collector to close.
  const handles = new Map<number, Promise<FileHandle>>();
  const handle = (n: number): Promise<FileHandle> => {
    const known = handles.get(n);
    if (known !== undefined) return known;
    const opened = openPack(join(dir, packName(n)), "a+");
    handles.set(n, opened);
    // A failed open is not kept: the next read tries again.
    opened.catch(() => handles.get(n) === opened && handles.delete(n));
    return opened;
  };
  let size = (await (await handle(current)).stat()).size;
  // Appends from different sources may stage at once; writes to the pack go one at a time.
  let queue: Promise<unknown> = Promise.resolve();

  /**
   * The bytes at each location (index values; undefined where none, or where the pack is short).
   * Chunks lying end to end in a pack — stored together, and often asked for together, as a restore
   * does — are read with one read of up to `readRun` bytes, not one each.
   */
  const readLocations = async (values: ReadonlyArray<Uint8Array | undefined>): Promise<Array<Uint8Array | undefined>> => {
    const at = values.map((v) => (v === undefined ? undefined : parseJson<Location>(v)));
    const out: Array<Uint8Array | undefined> = at.map(() => undefined);
    const order = at.flatMap((l, i) => (l === undefined ? [] : [i])).sort((a, b) => at[a]!.p - at[b]!.p || at[a]!.o - at[b]!.o);
    /** True when the chunk `next` starts where `previous` ends, and a run from `first` would stay within `readRun`. */
    const continues = (first: Location, previous: Location, next: Location): boolean =>
      next.p === first.p && next.o === previous.o + previous.n && next.o + next.n - first.o <= readRun;
    for (let k = 0; k < order.length; ) {
      const first = at[order[k]!]!;
      let end = k + 1;
      while (end < order.length && continues(first, at[order[end - 1]!]!, at[order[end]!]!)) end++;
      const last = at[order[end - 1]!]!;
      const run = new Uint8Array(last.o + last.n - first.o);
      const { bytesRead } = await (await handle(first.p)).read(run, 0, run.length, first.o);
      for (const i of order.slice(k, end)) {
        const l = at[i]!;
        if (l.o + l.n - first.o <= bytesRead) out[i] = run.subarray(l.o - first.o, l.o - first.o + l.n);
      }
      k = end;
    }
    return out;
  };

  const getMany = async (digests: ReadonlyArray<string>): Promise<Array<Uint8Array | undefined>> => readLocations(await db.getMany(digests.map(Keys.chunk)));

  const writeAll = async (chunks: ReadonlyMap<string, Uint8Array>): Promise<Array<BatchOperation>> => {
    if (size > packLimit) {
      current++;
      size = 0;
    }
    const file = await handle(current);
    const operations: Array<BatchOperation> = [];
    let total = 0;
    for (const [d, bytes] of chunks) {
      operations.push({ type: "put", key: Keys.chunk(d), value: json({ p: current, o: size + total, n: bytes.length } satisfies Location) });
      total += bytes.length;
    }
    try {
      await appendPieces(file, [...chunks.values()]);
      await file.datasync();
    } catch (e) {
      await cutBack(file);
      throw e;
    }
    size += total;
    return operations;
  };

  /**
   * After a failed write (a full disk writes part of it, then refuses the rest) the pack's end is
   * set back to `size`, where the next chunks are indexed: the bytes past it would have put every
   * later chunk in the pack after the place its index names. Should cutting fail, `size` is read back.
   */
  const cutBack = async (file: FileHandle): Promise<void> => {
    try {
      await file.truncate(size);
    } catch {
      size = await file.stat().then((s) => s.size, () => size);
    }
  };

  return {
    has: has(db),
    stage: (chunks) => {
      if (chunks.size === 0) return Promise.resolve([]);
      const run = queue.then(() => writeAll(chunks));
      queue = run.catch(() => undefined);
      return run;
    },
    get: async (digest) => (await getMany([digest]))[0],
    getMany,
    list: async function* () {
      for await (const [key, value] of entries(db, Keys.chunkRange)) yield [Keys.digestOfChunkKey(key), parseJson<Location>(value).n] as const;
    },
    forget,
    close: async () => {
      await queue;
      for (const opened of await Promise.allSettled(handles.values())) if (opened.status === "fulfilled") await opened.value.close();
      handles.clear();
    },
  };
};
