/**
 * Spool — the agent's local state on disk: the events sent but not yet acknowledged (replayed on
 * reconnect or after a restart; the store ignores replays it already holds) and a small state file
 * naming the source, the protected root and the store generation last seen. Every record carries a
 * SHA-256 of its header, and its chunks are checked against their digests; a torn tail (a crash
 * mid-write) is dropped, and anything damaged beyond that makes the whole local state count as lost,
 * so the agent compares everything instead of trusting it.
 *
 * Layout of `events.log`: records `u32 length | 32-byte SHA-256 | payload (Envelope)`, the hash of
 * the payload's header length and header (an earlier agent's records: of the whole payload).
 * Writes are not fsynced: the spool survives the agent being killed (the OS keeps the pages); after
 * a host crash the agent's full comparison repairs whatever the spool lost.
 *
 * @example
 * const spool = await Spool.open("/var/lib/tidemark/laptop", { source: "laptop", root: "/home/me" });
 * spool.add(events);         // as they are decided
 * await spool.write();       // before sending them
 * await spool.acked(42);     // the store holds everything up to 42
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { createHash } from "node:crypto";
import { existsSync, ftruncateSync, readFileSync, statSync, writeSync, writevSync } from "node:fs";
import { open as openFile, readFile, rename, rm, type FileHandle, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import * as Digest from "../../core/Digest.ts";
import * as Envelope from "../../core/Envelope.ts";
import * as Event from "../../core/Event.ts";
import { makeDirectory } from "../../store/Directory.ts";
import { sha256 } from "../Sha256.ts";
import * as SpoolLock from "./SpoolLock.ts";

/** What the agent remembers between runs. */
export interface AgentState {
  readonly version: 1;
  readonly source: string;
  readonly root: string;
  readonly generation: string | null;
}

/**
 * The lasting identity of the agent that writes `source` through the spool in `dir` (`Hello.writer`):
 * the same for every run on this host with this spool, whose lock lets one agent run at a time. An
 * agent restarted after a crash takes over, by it, the connection the store has not yet seen close.
 *
 * @example
 * Spool.writerOf("/var/lib/tidemark/laptop", "laptop")   // 32 hex digits, the same at every run
 */
export const writerOf = (dir: string, source: string): string => hexOf(`${hostname()}\0${resolve(dir)}\0${source}`).slice(0, 32);

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const hexOf = (text: string): string => createHash("sha256").update(text).digest("hex");

const readState = async (file: string): Promise<AgentState | "missing" | "damaged"> => {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return "missing";
  }
  try {
    const { checksum, ...state } = JSON.parse(text) as AgentState & { checksum: string };
    return checksum === hexOf(JSON.stringify(state)) && state.version === 1 ? state : "damaged";
  } catch {
    return "damaged";
  }
};

/** A record's hash: of its header's length and header (its chunks are checked by their own digests). */
const recordHash = (payload: Uint8Array, headerBytes: number): Uint8Array => sha256(payload.subarray(0, 4 + headerBytes));

/** True when every chunk an event carries hashes to its digest. */
const chunksIntact = (e: Event.Event): boolean => Event.chunksOf(e).every((c) => Digest.of(sha256, c.bytes) === c.digest);

/**
 * Reads the records of a spool file: the events, and whether anything was damaged (not just torn).
 * Records an earlier agent wrote (its hash covering the whole payload, chunk bytes and all) are read too.
 */
const readRecords = (bytes: Uint8Array): { readonly events: ReadonlyArray<Event.Event>; readonly damaged: boolean } => {
  const events: Array<Event.Event> = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 36 <= bytes.length) {
    const length = view.getUint32(at);
    if (at + 36 + length > bytes.length) break; // torn tail
    const payload = bytes.subarray(at + 36, at + 36 + length);
    const stored = bytes.subarray(at + 4, at + 36);
    const headerBytes = length >= 4 ? view.getUint32(at + 36) : 0;
    const headed = headerBytes <= length - 4 && equalBytes(stored, recordHash(payload, headerBytes));
    if (!headed && !equalBytes(stored, sha256(payload))) return { events, damaged: true };
    const e = E.flatMap(Event.decode)(Envelope.decode(payload));
    if (E.isLeft(e) || (headed && !chunksIntact(e.right))) return { events, damaged: true };
    events.push(e.right);
    at += 36 + length;
  }
  return { events, damaged: false };
};

/**
 * One event's record as the pieces to write, in order (`length | SHA-256 | Envelope`): the event's
 * chunk bytes are written from where they lie, not copied into a record (a resync's upload was
 * copying every byte it spooled three times), and not hashed again: the record's hash covers its
 * header, which names each chunk by its digest (an upload was hashing every byte twice).
 */
const record = (e: Event.Event): ReadonlyArray<Uint8Array> => {
  const { header, blobs, areaBytes } = Envelope.encodeParts(e);
  // length | hash | the payload's header length and header (hashed as `readRecords` checks them).
  const head = new Uint8Array(40 + header.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, 4 + header.length + areaBytes);
  view.setUint32(36, header.length);
  head.set(header, 40);
  head.set(recordHash(head.subarray(36), header.length), 4);
  return [head, ...blobs];
};

/** Most pieces one vectored write is given (the system's limit is 1,024). */
const piecesPerWrite = 1024;

/**
 * Appends pieces to the log with synchronous vectored writes: they land in the page cache (the spool
 * is not fsynced), in microseconds, where an asynchronous write costs a thread-pool round trip per
 * flush. A short write is finished piece by piece.
 */
const writeAll = (handle: FileHandle, pieces: ReadonlyArray<Uint8Array>): void => {
  for (let k = 0; k < pieces.length; k += piecesPerWrite) {
    const group = pieces.slice(k, k + piecesPerWrite);
    let written = writevSync(handle.fd, group);
    for (const piece of group) {
      if (written >= piece.length) {
        written -= piece.length;
        continue;
      }
      for (let at = written; at < piece.length; ) at += writeSync(handle.fd, piece, at);
      written = 0;
    }
  }
};

/** Why a spool cannot be used. */
export class SpoolError extends Error {}

/** The agent's spool. */
export type Spool = Awaited<ReturnType<typeof open>>;

/**
 * Opens (creating if needed) the spool in `dir` for a source and root. Throws `SpoolError` when it
 * belongs to another source or root, another live agent holds it, or it cannot be written at all.
 *
 * Once open, a write that fails (the disk full, a file size limit) does not stop the agent: the log
 * is emptied rather than left with a torn record, and events go on to the store without being
 * spooled (they are kept in memory for a replay on reconnect, as ever) until every pending event is
 * acknowledged; then the log starts afresh. An agent restarted meanwhile finds no pending event and
 * compares the whole tree with the store, as every start does, so nothing is lost but the
 * intermediate versions not yet acknowledged. `log` hears of each such episode once.
 *
 * @category constructors
 */
export const open = async (dir: string, identity: { readonly source: string; readonly root: string }, log: (line: string) => void = () => {}) => {
  await makeDirectory(dir).catch((e: unknown) => {
    throw new SpoolError(`cannot create the spool ${dir}: ${(e as Error).message}`);
  });
  let unlock = (() => {
    try {
      return SpoolLock.take(dir);
    } catch (e) {
      throw new SpoolError((e as Error).message);
    }
  })();
  const stateFile = join(dir, "state.json");
  const logFile = join(dir, "events.log");
  const found = await readState(stateFile);
  if (typeof found === "object" && (found.source !== identity.source || found.root !== identity.root)) {
    await unlock();
    throw new SpoolError(`the spool ${dir} belongs to source ${JSON.stringify(found.source)} protecting ${found.root}; use another --spool`);
  }
  const logBytes = found === "missing" ? new Uint8Array(0) : await readFile(logFile).catch(() => new Uint8Array(0));
  const records = found === "missing" ? { events: [], damaged: false } : readRecords(new Uint8Array(logBytes.buffer, logBytes.byteOffset, logBytes.byteLength));
  const damaged = found === "damaged" || records.damaged;
  let state: AgentState = typeof found === "object" && !damaged ? found : { version: 1, ...identity, generation: null };
  let pending: Array<Event.Event> = damaged ? [] : [...records.events];
  let handle: FileHandle = await openFile(logFile, damaged ? "w" : "a");
  /** Records of events added but not yet written. */
  let unwritten: Array<Uint8Array> = [];

  const saveState = async (next: AgentState): Promise<void> => {
    state = next;
    const temp = `${stateFile}.tmp`;
    await writeFile(temp, JSON.stringify({ ...next, checksum: hexOf(JSON.stringify(next)) }));
    await rename(temp, stateFile);
  };
  if (typeof found !== "object" || damaged) {
    await saveState(state).catch(async (e: Error) => {
      await handle.close();
      await unlock();
      throw new SpoolError(`cannot write the spool ${dir}: ${e.message}`);
    });
  }
  /** Why the log could not be written, while it stays empty (until every pending event is acknowledged). */
  let unwritable: string | undefined;
  const append = (pieces: ReadonlyArray<Uint8Array>): void => {
    if (unwritable !== undefined || pieces.length === 0) return;
    try {
      writeAll(handle, pieces);
    } catch (e) {
      unwritable = (e as Error).message;
      try {
        // Emptying a file needs no space. If even that fails, a restart finds the log torn or damaged: it compares everything then too.
        ftruncateSync(handle.fd, 0);
      } catch {
        // As above.
      }
      log(`cannot write the spool ${dir} (${unwritable}); events go to the store unspooled until all pending ones are acknowledged, and a restart meanwhile compares the whole tree`);
    }
  };

  // Writes, acknowledgements and truncation arrive from different callers; they run one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <A>(task: () => Promise<A>): Promise<A> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };

  /**
   * Starts an empty log file (all acknowledged, or the spool was dropped), to be written again. A
   * spool removed under the running agent (seen by hand: `rm -r` of it, and the agent died at the
   * next acknowledgement) is made again, its lock and state with it; one that cannot be is said, and
   * events go to the store unspooled, as when the disk is full, until the next try.
   */
  const restartLog = async (): Promise<void> => {
    await handle.close();
    const was = unwritable;
    try {
      if (!existsSync(stateFile)) await remake();
      handle = await openFile(logFile, "w");
      unwritable = undefined;
    } catch (e) {
      unwritable = (e as Error).message;
      if (unwritable !== was) log(`cannot write the spool ${dir} (${unwritable}); events go to the store unspooled until it can be written again`);
    }
  };

  const remake = async (): Promise<void> => {
    await makeDirectory(dir);
    unlock = SpoolLock.take(dir);
    await saveState(state);
    log(`the spool ${dir} was removed while in use; it is made again`);
  };

  const cacheFile = join(dir, "stat-cache");
  await rm(join(dir, "cache.json"), { force: true }); // an older agent's cache, in a format no longer read
  return {
    /** The persisted stat cache's size in bytes (0 when there is none): a measure of the tree, before reading it. */
    cacheBytes: (): number => {
      try {
        return statSync(cacheFile).size;
      } catch {
        return 0;
      }
    },
    /**
     * The persisted stat cache's text (empty when missing or damaged). It is read once, at start, in
     * one synchronous call: read through the thread pool, in 512 KiB pieces, a 10,000-file tree's
     * 4 MiB cache took ~12 ms to arrive, against ~2 ms.
     */
    readCache: async (): Promise<string> => {
      try {
        const file = readFileSync(cacheFile);
        const newline = file.indexOf(10);
        const body = file.subarray(newline + 1);
        // Checked as bytes: hashing the decoded text would encode it all to UTF-8 again.
        return file.subarray(0, newline).toString("latin1") === createHash("sha256").update(body).digest("hex") ? body.toString("utf8") : "";
      } catch {
        return "";
      }
    },
    /** Persists the stat cache's text (atomically: a temporary file renamed into place) after its checksum and a newline. */
    writeCache: async (text: string): Promise<void> => {
      const body = Buffer.from(text, "utf8");
      await writeFile(`${cacheFile}.tmp`, Buffer.concat([Buffer.from(`${createHash("sha256").update(body).digest("hex")}\n`), body]));
      await rename(`${cacheFile}.tmp`, cacheFile);
    },
    /** True when the local state was found damaged and discarded. */
    damaged,
    state: () => state,
    /** Unacknowledged events, in sequence order. */
    pending: (): ReadonlyArray<Event.Event> => pending,
    /** Remembers the store's generation (not persisted when the spool cannot be written: a restart then compares everything). */
    setGeneration: (generation: string) =>
      serial(() =>
        state.generation === generation
          ? Promise.resolve()
          : saveState({ ...state, generation }).catch((e: Error) => log(`cannot write the spool ${dir} (${e.message}); the store's generation is not remembered`))
      ),
    /** Records events as they are decided (in memory until `write`). */
    add: (events: ReadonlyArray<Event.Event>): void => {
      for (const e of events) unwritten.push(...record(e));
      pending.push(...events);
    },
    /** Writes the events added since the last write: they must be in the log before they are sent. */
    write: (): Promise<void> =>
      serial(async () => {
        const pieces = unwritten;
        unwritten = [];
        append(pieces);
      }),
    /** Drops every event up to `seq`. */
    acked: (seq: number): Promise<void> =>
      serial(async () => {
        const before = pending.length;
        pending = pending.filter((e) => e.seq > seq);
        if (pending.length === 0 && before > 0) await restartLog();
      }),
    /** Drops every pending event (the store will be brought up to date by a resync instead). */
    clear: (): Promise<void> =>
      serial(async () => {
        pending = [];
        unwritten = [];
        await restartLog();
      }),
    close: (): Promise<void> =>
      serial(async () => {
        append(unwritten);
        unwritten = [];
        await handle.close();
        await unlock();
      }),
  };
};
