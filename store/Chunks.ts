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
 * crash in between leaves only unreferenced bytes at a pack's end.
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

const packName = (n: number): string => `${String(n).padStart(8, "0")}.pack`;

/**
 * Chunk bytes in append-only pack files under `dir`, indexed in the database.
 *
 * @category constructors
 */
export const packFiles = async (db: Database, dir: string): Promise<Chunks> => {
  await makeDirectory(dir);
  const numbers = (await readdir(dir)).filter((f) => /^\d{8}\.pack$/.test(f)).map((f) => Number(f.slice(0, 8)));
  let current = numbers.length === 0 ? 1 : Math.max(...numbers);
  const handles = new Map<number, FileHandle>();
  const handle = async (n: number): Promise<FileHandle> => {
    const known = handles.get(n);
    if (known !== undefined) return known;
    const opened = await open(join(dir, packName(n)), "a+");
    handles.set(n, opened);
    return opened;
  };
  let size = (await (await handle(current)).stat()).size;
  // Appends from different sources may stage at once; writes to the pack go one at a time.
  let queue: Promise<unknown> = Promise.resolve();

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
    await appendPieces(file, [...chunks.values()]);
    await file.datasync();
    size += total;
    return operations;
  };

  return {
    has: has(db),
    stage: (chunks) => {
      if (chunks.size === 0) return Promise.resolve([]);
      const run = queue.then(() => writeAll(chunks));
      queue = run.catch(() => undefined);
      return run;
    },
    get: async (digest) => {
      const value = await db.get(Keys.chunk(digest));
      if (value === undefined) return undefined;
      const at = parseJson<Location>(value);
      const out = new Uint8Array(at.n);
      const { bytesRead } = await (await handle(at.p)).read(out, 0, at.n, at.o);
      return bytesRead === at.n ? out : undefined;
    },
    list: async function* () {
      for await (const [key, value] of entries(db, Keys.chunkRange)) yield [Keys.digestOfChunkKey(key), parseJson<Location>(value).n] as const;
    },
    forget,
    close: async () => {
      await queue;
      for (const h of handles.values()) await h.close();
      handles.clear();
    },
  };
};
