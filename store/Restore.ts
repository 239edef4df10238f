/**
 * Restore — writes versions from the store into a target directory: each file to a temporary name,
 * digest-checked, then renamed into place, with its mode and mtime; directories and symlinks
 * recreated. Every path is re-validated, and nothing is written outside the target: a symlink met
 * on the way (inside the target) is never followed.
 *
 * @example
 * import * as Restore from "./Restore.ts";
 * const report = await Restore.restore(store, "src", { seq: 42 }, "/tmp/out", ["docs"]);
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fsync, fsyncSync, ftruncateSync, futimesSync, openSync, renameSync, rmSync, writevSync } from "node:fs";
import { lstat, mkdir, rm, symlink, utimes, chmod, lutimes } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import type * as History from "../core/History.ts";
import * as Digest from "../core/Digest.ts";
import * as ItemPath from "../core/ItemPath.ts";
import * as Manifest from "../core/Manifest.ts";
import { type Appendable, appendPieces } from "./Chunks.ts";
import { makeDirectory } from "./Directory.ts";

/**
 * Where a restore reads from: the store itself, or a remote store through the wire (the command
 * line's `restore`).
 */
export interface TreeSource {
  readonly treeAsOf: (source: string, seq: number) => AsyncIterable<History.Version>;
  readonly chunk: (digest: string) => Promise<Uint8Array | undefined>;
  readonly hash: Digest.HashFunction;
}

/** What was restored. */
export interface Report {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number;
}

/** Why a restore stopped. */
export type RestoreError =
  | { readonly _tag: "UnsafePath"; readonly path: string; readonly reason: string }
  | { readonly _tag: "ChunkMissing"; readonly path: string; readonly digest: string }
  | { readonly _tag: "DigestMismatch"; readonly path: string }
  | { readonly _tag: "TargetUnusable"; readonly target: string; readonly reason: string }
  | { readonly _tag: "WriteFailed"; readonly path: string; readonly reason: string };

/** A file system call's failure (a full disk, a read-only target) as why writing `path` failed; anything else is not one. */
const writeFailure = (path: string, e: unknown): RestoreError | undefined =>
  e instanceof Error && "syscall" in e ? { _tag: "WriteFailed", path, reason: e.message } : undefined;

export const describeError = (e: RestoreError): string =>
  e._tag === "TargetUnusable"
    ? `cannot create the target ${e.target}: ${e.reason}`
    : e._tag === "WriteFailed"
    ? `cannot write ${JSON.stringify(e.path)}: ${e.reason}`
    : e._tag === "UnsafePath"
    ? `refusing to restore ${JSON.stringify(e.path)}: ${e.reason}`
    : e._tag === "ChunkMissing"
    ? `cannot restore ${JSON.stringify(e.path)}: chunk ${e.digest} is missing from the store`
    : `stored bytes of ${JSON.stringify(e.path)} do not match their recorded digests; nothing was written for it`;

/**
 * A stored mtime (whole milliseconds) as the seconds `utimes` takes: a microsecond past it. The
 * seconds since 1970 as a double keep only about a quarter of a microsecond, and the system call
 * truncates to nanoseconds, so `ms / 1000` often lands just below the millisecond (…352.999… for
 * …353): the restored file then read back a millisecond earlier than the version it came from, and
 * `verify` of a restored tree found drift. Node's and Deno's file system calls take a negative
 * number of seconds as "now" (Deno a numeric string too), so a time before 1970 goes as a `Date`,
 * which both take as it is.
 */
export const utimesSeconds = (ms: number): number | Date => (ms >= 0 ? ms / 1000 + 1e-6 : new Date(ms));

/**
 * Sets an open file's access and modification times to `ms`. Deno cannot set a time before 1970
 * with a fraction of a second (EINVAL): the file then gets the whole second before it.
 */
const setFileTimes = (fd: number, ms: number): void => {
  try {
    futimesSync(fd, utimesSeconds(ms), utimesSeconds(ms));
  } catch (e) {
    if (ms >= 0 || (e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
    const second = Math.floor(ms / 1000) * 1000;
    futimesSync(fd, utimesSeconds(second), utimesSeconds(second));
  }
};

/** True when `path` is one of `filters` or lies inside one (no filters = everything). */
const selected = (path: string, filters: ReadonlyArray<string>): boolean =>
  filters.length === 0 || filters.some((f) => path === f || ItemPath.isInside(path, f));

/** Removes whatever is at `full` unless it is a directory we keep; never follows a link. */
const clearFor = async (full: string, keepDir: boolean): Promise<void> => {
  const st = await lstat(full).catch(() => undefined);
  if (st === undefined) return;
  if (keepDir && st.isDirectory()) return;
  await rm(full, { recursive: true, force: true });
};

/**
 * Makes sure every parent of a path under `root` is a real directory (links on the way are
 * replaced), each directory checked once per restore: the files written at once often share them.
 */
const makeParents = (root: string) => {
  const ensured = new Map<string, Promise<void>>();
  const ensure = (dir: string): Promise<void> => {
    let done = ensured.get(dir);
    if (done === undefined) {
      done = (async () => {
        const st = await lstat(dir).catch(() => undefined);
        if (st !== undefined && !st.isDirectory()) await rm(dir, { force: true });
        if (st === undefined || !st.isDirectory()) await mkdir(dir);
      })();
      ensured.set(dir, done);
    }
    return done;
  };
  return {
    /** Ensures the parents of `path`, outermost first. */
    of: async (path: string): Promise<void> => {
      let dir = root;
      for (const part of path.split("/").slice(0, -1)) await ensure((dir = join(dir, part)));
    },
    /** Records a directory made by the restore itself. */
    made: (dir: string): void => void ensured.set(dir, Promise.resolve()),
  };
};

/** Files written at once: their chunks are awaited together. One at a time, a restore of 100,000 small files took minutes. */
const filesInFlight = 8;

/** Why a restore stopped: a refusal (a file system call that failed among them), or an exception (the store lost) rethrown once nothing is in flight. */
type Stop = { readonly refused: RestoreError } | { readonly thrown: unknown };

/** Why writing `path` stopped the restore: refused when the file system failed, thrown otherwise (the store lost). */
const failedWith = (path: string, e: unknown): Stop => {
  const failure = writeFailure(path, e);
  return failure === undefined ? { thrown: e } : { refused: failure };
};

/** Writes files a few at a time (`filesInFlight`); `onWritten` hears of each written, the first failure stops it. */
const makeFilePool = (store: TreeSource, onWritten: (v: History.Version, bytes: number) => void) => {
  const inFlight = new Set<Promise<void>>();
  const flush = makeFlush();
  let stop: Stop | undefined;
  return {
    stopped: (): Stop | undefined => stop,
    stopWith: (why: Stop): void => void (stop ??= why),
    /** Starts writing a file; waits while the pool is full. */
    add: async (full: string, v: History.Version): Promise<void> => {
      const writing: Promise<void> = restoreFile(store, flush, full, v)
        .then(
          (written) => (E.isLeft(written) ? void (stop ??= { refused: written.left }) : onWritten(v, written.right)),
          (e: unknown) => void (stop ??= failedWith(v.path, e)),
        )
        .finally(() => inFlight.delete(writing));
      inFlight.add(writing);
      if (inFlight.size >= filesInFlight) await Promise.race(inFlight);
    },
    /** Waits for every file under way; why the pool stopped, if it did. */
    settle: async (): Promise<Stop | undefined> => {
      await Promise.all(inFlight);
      return stop;
    },
  };
};

/** Where a version goes under `root`, or why it may not be written there. */
const placeOf = (root: string, v: History.Version): E.Either<RestoreError, string> => {
  const valid = ItemPath.parse(v.path);
  if (E.isLeft(valid)) return E.left({ _tag: "UnsafePath", path: v.path, reason: ItemPath.describe(valid.left) });
  const full = join(root, ...v.path.split("/"));
  return full.startsWith(root + sep) ? E.right(full) : E.left({ _tag: "UnsafePath", path: v.path, reason: "it resolves outside the target" });
};

/** Gives restored directories their modes and times, innermost first (writing inside them changed their times). */
const finishDirs = async (root: string, dirs: ReadonlyArray<History.Version>): Promise<void> => {
  for (const d of [...dirs].reverse()) {
    const full = join(root, ...d.path.split("/"));
    await chmod(full, d.meta!.mode);
    // The agent records no directory mtime (0: it changes with every entry); a restored directory keeps today's.
    if (d.meta!.mtimeMs > 0) await utimes(full, utimesSeconds(d.meta!.mtimeMs), utimesSeconds(d.meta!.mtimeMs));
  }
};

/**
 * Restores the tree as of `seq` (or only the items under `paths`) into `target`: directories and
 * links in key order, files a few at a time (each inside directories already made).
 *
 * @category restore
 */
export const restore = async (
  store: TreeSource,
  source: string,
  at: { readonly seq: number },
  target: string,
  paths: ReadonlyArray<string> = [],
  onItem: (path: string) => void = () => {},
): Promise<E.Either<RestoreError, Report>> => {
  const root = resolve(target);
  const unusable = await makeDirectory(root).then(() => undefined, (e: Error) => e.message);
  if (unusable !== undefined) return E.left({ _tag: "TargetUnusable", target, reason: unusable });
  const parents = makeParents(root);
  const dirs: Array<History.Version> = [];
  let report: Report = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  const files = makeFilePool(store, (v, bytes) => {
    report = { ...report, files: report.files + 1, bytes: report.bytes + bytes };
    onItem(v.path);
  });
  for await (const v of store.treeAsOf(source, at.seq)) {
    if (files.stopped() !== undefined) break;
    if (!selected(v.path, paths) || v.meta === null) continue;
    const place = placeOf(root, v);
    if (E.isLeft(place)) {
      files.stopWith({ refused: place.left });
      break;
    }
    const full = place.right;
    try {
      await parents.of(v.path);
      switch (v.meta.type) {
        case "dir":
          await clearFor(full, true);
          await mkdir(full, { recursive: true });
          parents.made(full);
          dirs.push(v);
          report = { ...report, dirs: report.dirs + 1 };
          onItem(v.path);
          break;
        case "symlink":
          await writeSymlink(full, v.meta);
          report = { ...report, symlinks: report.symlinks + 1 };
          onItem(v.path);
          break;
        case "file":
          await files.add(full, v);
          break;
      }
    } catch (e) {
      files.stopWith(failedWith(v.path, e));
      break;
    }
  }
  const stop = await files.settle();
  if (stop !== undefined && "thrown" in stop) throw stop.thrown;
  if (stop !== undefined) return E.left(stop.refused);
  await finishDirs(root, dirs);
  return E.right(report);
};

/** Makes a symbolic link in place of whatever is at `full`, with its stored time. */
const writeSymlink = async (full: string, meta: NonNullable<History.Version["meta"]>): Promise<void> => {
  await clearFor(full, false);
  await symlink(meta.linkTarget ?? "", full);
  await lutimes(full, utimesSeconds(meta.mtimeMs), utimesSeconds(meta.mtimeMs)).catch(() => undefined);
};

/** Temporary names of this process's restores: a random part drawn once (drawing one per file cost ~20 µs each) and a count. */
const temporaries = { prefix: `.tidemark-restore-${randomBytes(6).toString("hex")}-`, count: 0 };

/**
 * Moves a written temporary file into place: a rename replaces a file or link there at once; a
 * directory in the way (the rename is refused) is removed first.
 */
const place = (temp: string, full: string): void => {
  try {
    renameSync(temp, full);
  } catch {
    rmSync(full, { recursive: true, force: true });
    renameSync(temp, full);
  }
};

/** A flush taking longer than this (ms) is slow: a disk's, not tmpfs's. */
const slowFlushMs = 0.1;

/** How many flushes are timed before deciding where the rest are made. */
const timedFlushes = 8;

/**
 * Flushes restored files to disk: on this thread while flushes cost next to nothing (tmpfs, where a
 * thread-pool round trip made a restore of 10,000 files of 1 KiB 35 % slower), in the thread pool
 * once most of the first few were slow (ext4 here: ~0.3 ms each), so the flushes of the files written
 * at once overlap and share the journal's commits: a restore of 10,000 files of 1 KiB to disk took
 * 5.3–6.0 s that way against 8.0–8.7 s with every flush made in turn on this thread (alternating runs).
 */
const makeFlush = () => {
  let made = 0;
  let slow = 0;
  return async (fd: number): Promise<void> => {
    if (made >= timedFlushes && 2 * slow > made) return new Promise((done, fail) => fsync(fd, (e) => (e === null ? done() : fail(e))));
    const began = performance.now();
    fsyncSync(fd);
    if (made < timedFlushes) {
      made++;
      if (performance.now() - began > slowFlushMs) slow++;
    }
  };
};

/**
 * Writes one file: to a temporary name beside it, chunk by chunk, then its mode and times, then
 * renamed into place. The file system calls are synchronous: each is a few microseconds, where an
 * asynchronous one cost a thread-pool round trip of ~30 µs here (a small file takes seven). Only the
 * chunks and the flush to disk (`makeFlush`) are awaited.
 */
const restoreFile = async (store: TreeSource, flush: (fd: number) => Promise<void>, full: string, v: History.Version): Promise<E.Either<RestoreError, number>> => {
  const meta = v.meta!;
  // The manifest must describe the version: its size, and the content digest made from its chunk digests.
  if (Manifest.size(v.manifest) !== meta.size || Manifest.contentDigest(v.manifest, store.hash) !== meta.digest) return E.left({ _tag: "DigestMismatch", path: v.path });
  const temp = join(full, "..", `${temporaries.prefix}${temporaries.count++}`);
  const fd = openSync(temp, "wx", meta.mode);
  // A failure — a refused chunk, or the store lost mid-file — leaves no temporary file behind.
  let written: E.Either<RestoreError, number> | undefined;
  try {
    const file = sparseWriter(fd);
    written = await writeChunks(store, file, v);
    if (E.isRight(written)) {
      file.finish();
      await flush(fd);
      fchmodSync(fd, meta.mode);
      setFileTimes(fd, meta.mtimeMs);
    }
  } finally {
    closeSync(fd);
    if (written === undefined || E.isLeft(written)) rmSync(temp, { force: true });
  }
  if (E.isRight(written)) {
    try {
      place(temp, full);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
  }
  return written;
};

/** A file written at a position that can also be moved on without writing (leaving a hole). */
interface Sparse extends Appendable {
  readonly skip: (bytes: number) => void;
}

/** Writes to `fd` from its start; `finish` gives a file that ends in a hole its length. */
const sparseWriter = (fd: number): Sparse & { readonly finish: () => void } => {
  let position = 0;
  let endsInHole = false;
  return {
    writev: async (pieces) => {
      const bytesWritten = writevSync(fd, pieces, position);
      position += bytesWritten;
      endsInHole = false;
      return { bytesWritten };
    },
    skip: (bytes) => {
      position += bytes;
      endsInHole = bytes > 0 || endsInHole;
    },
    finish: () => {
      if (endsInHole) ftruncateSync(fd, position);
    },
  };
};

/**
 * Writes a version's chunks in order, one at a time: a restore holds one chunk, not the file (a whole
 * file in memory cost twice its size, and one over 4 GiB could not be restored at all). Each chunk's
 * bytes are hashed against its digest — a chunk damaged on disk fails the restore, not restores wrong
 * data — and a chunk repeated in a row (a run of zeros) is fetched once. A chunk of zeros is not
 * written: it is left a hole, so a sparse file (a disk image, a database's preallocated space) comes
 * back sparse, as `cp` makes it, instead of taking its whole size on disk.
 */
const writeChunks = async (store: TreeSource, file: Sparse, v: History.Version): Promise<E.Either<RestoreError, number>> => {
  let last: { readonly digest: string; readonly bytes: Uint8Array } | undefined;
  const zeros = new Map<number, string>();
  const isZeros = (bytes: Uint8Array, digest: string): boolean => {
    if (bytes.length === 0 || bytes[0] !== 0 || bytes[bytes.length - 1] !== 0 || bytes[bytes.length >> 1] !== 0) return false;
    if (!zeros.has(bytes.length)) zeros.set(bytes.length, Digest.of(store.hash, new Uint8Array(bytes.length)));
    return zeros.get(bytes.length) === digest;
  };
  let at = 0;
  for (const ref of v.manifest) {
    const bytes = last?.digest === ref.digest ? last.bytes : await store.chunk(ref.digest);
    if (bytes === undefined || bytes.length !== ref.size) return E.left({ _tag: "ChunkMissing", path: v.path, digest: ref.digest });
    if (last?.digest !== ref.digest && Digest.of(store.hash, bytes) !== ref.digest) return E.left({ _tag: "DigestMismatch", path: v.path });
    if (isZeros(bytes, ref.digest)) file.skip(bytes.length);
    else await appendPieces(file, [bytes]);
    at += bytes.length;
    last = { digest: ref.digest, bytes };
  }
  return E.right(at);
};
