/**
 * Database — the small port the store needs from an ordered key-value database: get, getMany, hasMany, atomic batch
 * (optionally synced to disk) and range iteration, with string keys and byte values. Every
 * `abstract-level` database opened with `{ keyEncoding: "utf8", valueEncoding: "view" }` fits it:
 * classic-level (LevelDB on disk, the default) and memory-level among them.
 *
 * @example
 * import { ClassicLevel } from "classic-level";
 * const db: Database = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" });
 *
 * @module
 */

/** One operation of an atomic batch. */
export type BatchOperation =
  | { readonly type: "put"; readonly key: string; readonly value: Uint8Array }
  | { readonly type: "del"; readonly key: string };

/** A key range; all bounds optional. */
export interface RangeOptions {
  readonly gt?: string;
  readonly gte?: string;
  readonly lt?: string;
  readonly lte?: string;
  readonly reverse?: boolean;
  readonly limit?: number;
}

/** The port. */
export interface Database {
  readonly status: string;
  open(): Promise<void>;
  close(): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  getMany(keys: Array<string>): Promise<Array<Uint8Array | undefined>>;
  hasMany(keys: Array<string>): Promise<Array<boolean>>;
  batch(operations: Array<BatchOperation>, options?: { sync?: boolean }): Promise<void>;
  iterator(options?: RangeOptions): { nextv(size: number): Promise<Array<[string, Uint8Array]>>; seek(target: string): void; close(): Promise<void> };
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A JSON value as bytes. */
export const json = (value: unknown): Uint8Array => utf8.encode(JSON.stringify(value));

/** Bytes written by `json`, read back (the store reads only what it wrote). */
export const parseJson = <A>(bytes: Uint8Array): A => JSON.parse(text.decode(bytes)) as A;

/** How many entries a range scan takes from the database at once. */
const scanBatch = 1000;

/**
 * The entries of a range in key order, a batch at a time (`nextv`: one call per thousand entries
 * costs far less than one per entry). `first` sizes the first batch (for a caller that wants a page).
 */
export async function* batches(db: Database, range: RangeOptions, first = scanBatch): AsyncGenerator<Array<[string, Uint8Array]>> {
  const it = db.iterator(range);
  try {
    for (let size = first; ; size = scanBatch) {
      const batch = await it.nextv(size);
      if (batch.length === 0) return;
      yield batch;
    }
  } finally {
    await it.close();
  }
}

/** Every entry in a range, in key order. */
export async function* entries(db: Database, range: RangeOptions): AsyncGenerator<[string, Uint8Array]> {
  for await (const batch of batches(db, range)) yield* batch;
}
