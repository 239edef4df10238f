/**
 * Chunking — content-defined chunking with a FastCDC-style gear hash.
 *
 * Cut points depend only on the bytes around them, so an insertion or an in-place edit changes the
 * chunks around the edit and leaves the rest (and their digests) as they were. Normalised chunking
 * (a harder mask before the average size, an easier one after it) keeps sizes close to the average.
 *
 * @example
 * import * as Chunking from "./Chunking.ts";
 * const cuts = Chunking.cutPoints(bytes, Chunking.defaultParams); // [32768, 70123, ..., bytes.length]
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";

/** Minimum, average and maximum chunk sizes in bytes. @category models */
export const ChunkingParams = t.type({ min: t.number, avg: t.number, max: t.number });
export type ChunkingParams = t.TypeOf<typeof ChunkingParams>;

/** 8 / 32 / 128 KiB, the defaults of DESIGN §2. @category constants */
export const defaultParams: ChunkingParams = { min: 8 * 1024, avg: 32 * 1024, max: 128 * 1024 };

/** Checks that sizes are ordered, the average is a power of two and everything is in range. @category constructors */
export const makeParams = (min: number, avg: number, max: number): E.Either<string, ChunkingParams> => {
  const ints = [min, avg, max].every((n) => Number.isSafeInteger(n));
  if (!ints || min < 64 || !(min <= avg && avg <= max) || max > 64 * 1024 * 1024) {
    return E.left(`chunk sizes must satisfy 64 <= min <= avg <= max <= 64 MiB (got ${min}/${avg}/${max})`);
  }
  if ((avg & (avg - 1)) !== 0) return E.left(`average chunk size must be a power of two (got ${avg})`);
  return E.right({ min, avg, max });
};

/**
 * 256 fixed pseudo-random 32-bit values (mulberry32 from a constant seed: deterministic, not random),
 * kept as signed 32-bit integers so the hash loop stays in int32 arithmetic (no boxed numbers).
 */
const gear: Int32Array = (() => {
  const table = new Int32Array(256);
  let state = 0x7469_6465; // "tide"
  for (let i = 0; i < 256; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    table[i] = z ^ (z >>> 14);
  }
  return table;
})();

/** A mask of `bits` ones in the top bits of a 32-bit word (the gear hash's best-mixed bits), as an int32. */
const topMask = (bits: number): number => (bits >= 32 ? -1 : ((1 << bits) - 1) << (32 - bits));

/**
 * The gear hash on reaching `to` from `from` (0 at `from`): a byte's part of it is shifted out 32
 * bytes later, so only the last 32 are read.
 */
const hashTo = (bytes: Uint8Array, from: number, to: number, g: Int32Array): number => {
  let h = 0;
  for (let i = Math.max(from, to - 32); i < to; i++) h = ((h << 1) + g[bytes[i]!]!) | 0;
  return h;
};

/**
 * The first cut in bytes[from, to), where the gear hash (`h` on reaching `from`) has no bit of
 * `mask` set, or -1. Four bytes a turn in a small function with the table passed in: the
 * byte-at-a-time loop that read the module's table ran at ~850 MB/s, and a bundler's `var` for the
 * module's `const` kept V8 from folding the table in (36 MiB, median of 12 passes, three processes
 * each: bundled by esbuild 43–44 ms before, 26 ms now; through tsx 42–43 ms before, 30–34 ms now).
 */
const firstCut = (bytes: Uint8Array, from: number, to: number, h: number, mask: number, g: Int32Array): number => {
  let i = from;
  for (; i + 3 < to; i += 4) {
    if (((h = ((h << 1) + g[bytes[i]!]!) | 0) & mask) === 0) return i + 1;
    if (((h = ((h << 1) + g[bytes[i + 1]!]!) | 0) & mask) === 0) return i + 2;
    if (((h = ((h << 1) + g[bytes[i + 2]!]!) | 0) & mask) === 0) return i + 3;
    if (((h = ((h << 1) + g[bytes[i + 3]!]!) | 0) & mask) === 0) return i + 4;
  }
  for (; i < to; i++) if (((h = ((h << 1) + g[bytes[i]!]!) | 0) & mask) === 0) return i + 1;
  return -1;
};

/** Where the chunk that starts at `start` ends (exclusive): the harder mask up to the average size, the easier one after. */
const nextCut = (
  bytes: Uint8Array,
  start: number,
  end: number,
  params: ChunkingParams,
  maskS: number,
  maskL: number,
): number => {
  const remaining = end - start;
  if (remaining <= params.min) return end;
  const limit = start + Math.min(remaining, params.max);
  const normal = start + Math.min(remaining, params.avg);
  const from = start + params.min;
  const small = firstCut(bytes, from, normal, 0, maskS, gear);
  if (small >= 0) return small;
  const large = firstCut(bytes, normal, limit, hashTo(bytes, from, normal, gear), maskL, gear);
  return large >= 0 ? large : limit;
};

/**
 * The end offsets of the chunks of `bytes`, ascending; the last one is `bytes.length`
 * (an empty input has no chunks).
 *
 * @example
 * cutPoints(new Uint8Array(0), defaultParams)   // []
 * @category chunking
 */
export const cutPoints = (bytes: Uint8Array, params: ChunkingParams): ReadonlyArray<number> => {
  const cuts: Array<number> = [];
  let start = 0;
  while (start < bytes.length) {
    start = chunkEnd(bytes, start, params);
    cuts.push(start);
  }
  return cuts;
};

/**
 * Where the chunk that starts at `start` (a cut point, or 0) ends. A cut depends only on the bytes
 * from the chunk's start to it, so a chunk whose bytes are known to be unchanged since an earlier
 * chunking ends where it ended then (unless it was the last, cut by the end of the data).
 *
 * @example
 * chunkEnd(bytes, 0, defaultParams) === cutPoints(bytes, defaultParams)[0]
 * @category chunking
 */
export const chunkEnd = (bytes: Uint8Array, start: number, params: ChunkingParams): number => {
  const bits = Math.round(Math.log2(params.avg));
  return nextCut(bytes, start, bytes.length, params, topMask(bits + 1), topMask(Math.max(1, bits - 1)));
};

/**
 * The chunks of `bytes` as views (no copies) into it.
 *
 * @category chunking
 */
export const split = (bytes: Uint8Array, params: ChunkingParams): ReadonlyArray<Uint8Array> => {
  const out: Array<Uint8Array> = [];
  let start = 0;
  for (const end of cutPoints(bytes, params)) {
    out.push(bytes.subarray(start, end));
    start = end;
  }
  return out;
};
