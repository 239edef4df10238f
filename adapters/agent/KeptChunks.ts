/**
 * KeptChunks — finds, in worker threads, which chunks of a large file's earlier version still lie in
 * it: each at its old offset, or moved by the change in size (after an insertion or deletion). A
 * changed 128 MiB file is mostly unchanged chunks whose hashing (~75 ms here) kept the agent's one
 * thread busy; the workers hash them meanwhile, each through a small reused window (a fresh buffer
 * of the whole file cost three times its read in page faults), and the agent's thread then re-chunks
 * only what changed (`Manifest.rebuildFrom`, with `Places.known`).
 *
 * A worker gives up on a stretch of a file after many chunks in a row found at neither place (a
 * rewritten file): what it did not check is left to the agent's thread.
 *
 * @example
 * const places = await KeptChunks.find("/srv/data/big.bin", st.size, earlier.manifest);
 * if (places !== undefined && 2 * places.keptBytes >= st.size) … // rebuild around the kept chunks
 *
 * @module
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type * as Manifest from "../../core/Manifest.ts";
import * as FileBytes from "./FileBytes.ts";

/** What the workers found of the earlier chunks' places. */
export interface Places {
  /** Whether earlier chunk `k` lies unchanged at offset `at`, when a worker checked that place. */
  readonly known: (k: number, at: number) => boolean | undefined;
  /** The bytes of the earlier chunks found unchanged. */
  readonly keptBytes: number;
}

/** Bytes a worker reads at a time (chunks are at most 128 KiB). */
const windowBytes = 4 * 1024 * 1024;
/** Chunks in a row found at neither place after which a worker stops checking its stretch. */
const giveUpAfter = 64;
/** Most worker threads (fewer on a machine with fewer cores). */
const maxWorkers = 4;
/** A pool idle this long ends its threads. */
const idleMs = 2000;

// Flags per chunk, as the workers report them.
const checkedOld = 1;
const foundOld = 2;
const checkedMoved = 4;
const foundMoved = 8;

// Plain JavaScript, evaluated in each worker: no TypeScript loader needed there. A job is a stretch
// of chunks (old offsets, sizes, hex digests); the reply is one flag byte per chunk, transferred.
const workerCode = `
const { openSync, readSync, closeSync } = require("node:fs");
const { createHash } = require("node:crypto");
const { parentPort } = require("node:worker_threads");
const window = new Uint8Array(${windowBytes});
const windowReads = ${FileBytes.windowReads.toString()};
parentPort.on("message", ({ id, abs, size, shift, offsets, sizes, digests }) => {
  const n = sizes.length;
  const flags = new Uint8Array(n);
  let fd = -1;
  try {
    fd = openSync(abs, "r");
    const bytes = windowReads(readSync, fd, size, window);
    const isAt = (k, at) => {
      if (at < 0 || at + sizes[k] > size || sizes[k] > window.length) return false;
      const b = bytes(at, at + sizes[k]);
      return b !== undefined && createHash("sha256").update(b).digest("hex") === digests.substr(64 * k, 64);
    };
    let movedFirst = false;
    let misses = 0;
    for (let k = 0; k < n && misses < ${giveUpAfter}; k++) {
      const old = offsets[k];
      const places = shift === 0 ? [old] : movedFirst ? [old + shift, old] : [old, old + shift];
      let found = false;
      for (const at of places) {
        const isOld = at === old;
        flags[k] |= isOld ? ${checkedOld} : ${checkedMoved};
        if (isAt(k, at)) {
          flags[k] |= isOld ? ${foundOld} : ${foundMoved};
          movedFirst = !isOld;
          found = true;
          break;
        }
      }
      misses = found ? 0 : misses + 1;
    }
  } catch {
    // Unreadable or gone: what was not checked is left to the agent's thread.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  parentPort.postMessage({ id, flags }, [flags.buffer]);
});
`;

interface Job {
  readonly id: number;
  readonly message: { readonly abs: string; readonly size: number; readonly shift: number; readonly offsets: Float64Array; readonly sizes: Float64Array; readonly digests: string };
  readonly done: (flags: Uint8Array | undefined) => void;
}

/** The worker threads, started on first use and ended when idle. */
const pool = (() => {
  const idle: Array<Worker> = [];
  const busy = new Map<Worker, Job>();
  const queue: Array<Job> = [];
  let broken = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const size = Math.max(1, Math.min(maxWorkers, availableParallelism()));

  const end = (): void => {
    for (const w of idle.splice(0)) void w.terminate();
  };
  const lose = (w: Worker): void => {
    busy.get(w)?.done(undefined);
    busy.delete(w);
    const at = idle.indexOf(w);
    if (at >= 0) idle.splice(at, 1);
  };
  const start = (): Worker | undefined => {
    try {
      const w = new Worker(workerCode, { eval: true });
      w.unref();
      w.on("message", ({ flags }: { flags: Uint8Array }) => {
        busy.get(w)?.done(flags);
        busy.delete(w);
        idle.push(w);
        next();
      });
      w.on("error", () => lose(w));
      w.on("exit", () => lose(w));
      return w;
    } catch {
      broken = true;
      return undefined;
    }
  };
  const next = (): void => {
    clearTimeout(idleTimer);
    while (queue.length > 0) {
      const w = idle.pop() ?? (busy.size < size ? start() : undefined);
      if (w === undefined) break;
      const job = queue.shift()!;
      busy.set(w, job);
      w.postMessage({ id: job.id, ...job.message });
    }
    for (const job of broken && busy.size === 0 ? queue.splice(0) : []) job.done(undefined);
    if (busy.size === 0) {
      idleTimer = setTimeout(end, idleMs);
      (idleTimer as { unref?: () => void }).unref?.();
    }
  };
  let ids = 0;
  return {
    size,
    run: (message: Job["message"]): Promise<Uint8Array | undefined> =>
      new Promise((done) => {
        queue.push({ id: ids++, message, done });
        next();
      }),
  };
})();

/**
 * Where the chunks of `earlier` (the manifest of an earlier version of the file at `abs`) lie in it
 * now that it is `size` bytes long, as worker threads found them; `undefined` when no worker could
 * be used (the caller hashes them itself).
 *
 * @category finding
 */
export const find = async (abs: string, size: number, earlier: Manifest.Manifest): Promise<Places | undefined> => {
  const n = earlier.length;
  // The workers compare SHA-256 digests in hex, as the agent makes them.
  if (earlier.some((c) => c.digest.length !== 64)) return undefined;
  const offsets = new Float64Array(n);
  const sizes = new Float64Array(n);
  let total = 0;
  for (const [k, c] of earlier.entries()) {
    offsets[k] = total;
    sizes[k] = c.size;
    total += c.size;
  }
  const shift = size - total;
  // One stretch per worker, so a file is checked by all of them at once.
  const per = Math.ceil(n / pool.size);
  const stretches = await Promise.all(Array.from({ length: Math.ceil(n / per) }, (_, p) => {
    const [from, to] = [p * per, Math.min(n, (p + 1) * per)];
    const digests = earlier.slice(from, to).map((c) => c.digest).join("");
    return pool.run({ abs, size, shift, offsets: offsets.slice(from, to), sizes: sizes.slice(from, to), digests });
  }));
  if (stretches.some((s) => s === undefined)) return undefined;
  const flags = new Uint8Array(n);
  stretches.forEach((s, p) => flags.set(s!, p * per));
  let keptBytes = 0;
  for (let k = 0; k < n; k++) if ((flags[k]! & (foundOld | foundMoved)) !== 0) keptBytes += sizes[k]!;
  const known = (k: number, at: number): boolean | undefined => {
    const f = flags[k] ?? 0;
    if (at === offsets[k] && (f & checkedOld) !== 0) return (f & foundOld) !== 0;
    if (at === offsets[k]! + shift && (f & checkedMoved) !== 0) return (f & foundMoved) !== 0;
    return undefined;
  };
  return { known, keptBytes };
};
