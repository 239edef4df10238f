/**
 * FileBytes — reading a file's bytes for the agent: a large file whole in as few reads as the system
 * allows, optionally into a reused buffer (`makeScratch`: fresh buffers cost more in page faults than
 * their read), and only the chunks the store lacks of a file unchanged since its manifest was made,
 * each checked against its digest (`readParts`).
 *
 * @example
 * const scratch = FileBytes.makeScratch();
 * const into = scratch.borrow(size);
 * const bytes = await FileBytes.readLarge("/srv/data/big.bin", size, into);
 * …
 * if (into !== undefined) scratch.giveBack(into);
 * // or, when the unchanged chunks' places are known (KeptChunks), only the changes:
 * const manifest = FileBytes.rebuildAround("/srv/data/big.bin", size, earlier, places.known);
 *
 * @module
 */
import { closeSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import * as Chunking from "../../core/Chunking.ts";
import * as Digest from "../../core/Digest.ts";
import * as Manifest from "../../core/Manifest.ts";
import { sha256 } from "../Sha256.ts";

/** Largest file read into a reused buffer (larger ones get a buffer of their own). */
const maxScratchBytes = 512 * 1024 * 1024;
/** How many reused buffers there are at most. */
const scratchBuffers = 2;

/**
 * The bytes of the chunks of a file (as `manifest` describes it) that `skip` lacks, read at their
 * offsets and each checked against its digest: `undefined` when one does not match (the file changed
 * since the manifest was made) or when most of the file is wanted anyway.
 */
export const readParts = (abs: string, manifest: Manifest.Manifest, skip: ReadonlySet<string>): Map<string, Uint8Array> | undefined => {
  const wanted: Array<readonly [number, Manifest.ChunkRef]> = [];
  let offset = 0;
  let total = 0;
  for (const c of manifest) {
    if (!skip.has(c.digest)) {
      wanted.push([offset, c]);
      total += c.size;
    }
    offset += c.size;
  }
  if (2 * total > offset) return undefined;
  const out = new Map<string, Uint8Array>();
  const fd = openSync(abs, "r");
  try {
    for (const [at, c] of wanted) {
      if (out.has(c.digest)) continue;
      const bytes = new Uint8Array(c.size);
      for (let got = 0; got < c.size; ) {
        const n = readSync(fd, bytes, got, c.size - got, at + got);
        if (n === 0) return undefined;
        got += n;
      }
      if (Digest.of(sha256, bytes) !== c.digest) return undefined;
      out.set(c.digest, bytes);
    }
  } finally {
    closeSync(fd);
  }
  return out;
};

/**
 * A large file's bytes, in as few reads as the system allows (`readFile` takes 512 KiB per thread-pool
 * round trip: a 128 MiB file cost 256 of them), into `into` when it is given and large enough. Reads
 * to the end even if the file grew since `size`.
 */
export const readLarge = async (abs: string, size: number, into?: Uint8Array): Promise<Uint8Array> => {
  const handle = await open(abs, "r");
  try {
    let bytes = into !== undefined && into.length >= size ? into.subarray(0, size) : new Uint8Array(size);
    let got = 0;
    for (;;) {
      if (got === bytes.length) {
        // At the size the stat gave: a small read tells whether the file has grown since.
        const probe = new Uint8Array(65536);
        const { bytesRead } = await handle.read(probe, 0, probe.length, got);
        if (bytesRead === 0) return bytes;
        const grown = new Uint8Array(bytes.length * 2 + probe.length);
        grown.set(bytes);
        grown.set(probe.subarray(0, bytesRead), got);
        bytes = grown;
        got += bytesRead;
        continue;
      }
      const { bytesRead } = await handle.read(bytes, got, bytes.length - got, got);
      if (bytesRead === 0) return bytes.subarray(0, got);
      got += bytesRead;
    }
  } finally {
    await handle.close();
  }
};

/**
 * Buffers lent for reading large files whose bytes are not kept: a fresh buffer of 128 MiB costs
 * about three times its read in page faults (~100 ms against ~30 ms here). Two, so one file can be
 * read while another is chunked; sized in powers of two (files of 64, 96 and 128 MiB need two
 * sizes, not three); dropped a second after their last use, so an idle agent does not hold them.
 */
export const makeScratch = () => {
  const free: Array<Uint8Array> = [];
  let lent = 0;
  let drop: ReturnType<typeof setTimeout> | undefined;
  return {
    borrow: (size: number): Uint8Array | undefined => {
      if (lent === scratchBuffers || size > maxScratchBytes) return undefined;
      lent++;
      clearTimeout(drop);
      const fits = free.findIndex((b) => b.length >= size);
      if (fits >= 0) return free.splice(fits, 1)[0]!;
      free.pop(); // a smaller one is replaced
      return new Uint8Array(Math.min(maxScratchBytes, 2 ** Math.ceil(Math.log2(Math.max(size, 1)))));
    },
    giveBack: (bytes: Uint8Array): void => {
      lent--;
      free.push(bytes);
      clearTimeout(drop);
      drop = setTimeout(() => free.splice(0), 1000);
      (drop as { unref?: () => void }).unref?.();
    },
  };
};

/**
 * Reads of a file (`fd`, `size` bytes) through `window`: the bytes at `from`…`to`-1 as a view of it
 * (valid until the next read), filled afresh from `from` when they are not in it; `undefined` when
 * the file ends first. Self-contained — it uses only its arguments — because the worker threads of
 * `KeptChunks` run it from its source text too.
 */
export const windowReads = (readSync: (fd: number, into: Uint8Array, at: number, length: number, position: number) => number, fd: number, size: number, window: Uint8Array) => {
  let start = 0;
  let end = 0;
  return (from: number, to: number): Uint8Array | undefined => {
    if (from < start || to > end) {
      const want = Math.min(window.length, size - from);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, window, got, want - got, from + got);
        if (n === 0) break;
        got += n;
      }
      start = from;
      end = from + got;
    }
    return to <= end ? window.subarray(from - start, to - start) : undefined;
  };
};

/** The window `rebuildAround` reads through (its reads are synchronous, so one serves every call). */
let window: Uint8Array | undefined;
const windowBytes = 4 * 1024 * 1024;
const shortRead = new Error("the file is shorter than its stat data said");

/**
 * A large file's manifest made from the manifest of its earlier version (`earlier`) and what is
 * `known` of where that version's chunks lie now: only the bytes around its changes are read (through
 * a small reused window) and hashed. `undefined` when the file turns out shorter than `size` (it
 * changed meanwhile).
 */
export const rebuildAround = (abs: string, size: number, earlier: Manifest.Manifest, known: Manifest.Source["known"]): Manifest.Manifest | undefined => {
  const fd = openSync(abs, "r");
  const read = windowReads(readSync, fd, size, (window ??= new Uint8Array(windowBytes)));
  const bytes = (from: number, to: number): Uint8Array => {
    const got = read(from, to);
    if (got === undefined) throw shortRead;
    return got;
  };
  try {
    return Manifest.rebuildFrom({ size, bytes, ...(known === undefined ? {} : { known }) }, earlier, Chunking.defaultParams, sha256);
  } catch (e) {
    if (e === shortRead) return undefined;
    throw e;
  } finally {
    closeSync(fd);
  }
};
