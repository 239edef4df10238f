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
import { type FileHandle, lstat, mkdir, open, rename, rm, symlink, utimes, chmod, lutimes } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import type * as History from "../core/History.ts";
import * as Digest from "../core/Digest.ts";
import * as ItemPath from "../core/ItemPath.ts";
import * as Manifest from "../core/Manifest.ts";
import { appendPieces } from "./Chunks.ts";
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
  | { readonly _tag: "TargetUnusable"; readonly target: string; readonly reason: string };

export const describeError = (e: RestoreError): string =>
  e._tag === "TargetUnusable"
    ? `cannot create the target ${e.target}: ${e.reason}`
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
 * `verify` of a restored tree found drift.
 */
export const utimesSeconds = (ms: number): number => ms / 1000 + 1e-6;

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

/** Makes sure every parent of `path` under `root` is a real directory (links on the way are replaced). */
const ensureParents = async (root: string, path: string): Promise<void> => {
  const parts = path.split("/").slice(0, -1);
  let dir = root;
  for (const part of parts) {
    dir = join(dir, part);
    const st = await lstat(dir).catch(() => undefined);
    if (st !== undefined && !st.isDirectory()) await rm(dir, { force: true });
    if (st === undefined || !st.isDirectory()) await mkdir(dir);
  }
};

/**
 * Restores the tree as of `seq` (or only the items under `paths`) into `target`.
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
  const dirs: Array<History.Version> = [];
  let report: Report = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  for await (const v of store.treeAsOf(source, at.seq)) {
    if (!selected(v.path, paths) || v.meta === null) continue;
    const valid = ItemPath.parse(v.path);
    if (E.isLeft(valid)) return E.left({ _tag: "UnsafePath", path: v.path, reason: ItemPath.describe(valid.left) });
    const full = join(root, ...v.path.split("/"));
    if (!full.startsWith(root + sep)) return E.left({ _tag: "UnsafePath", path: v.path, reason: "it resolves outside the target" });
    await ensureParents(root, v.path);
    switch (v.meta.type) {
      case "dir":
        await clearFor(full, true);
        await mkdir(full, { recursive: true });
        dirs.push(v);
        report = { ...report, dirs: report.dirs + 1 };
        break;
      case "symlink":
        await clearFor(full, false);
        await symlink(v.meta.linkTarget ?? "", full);
        await lutimes(full, utimesSeconds(v.meta.mtimeMs), utimesSeconds(v.meta.mtimeMs)).catch(() => undefined);
        report = { ...report, symlinks: report.symlinks + 1 };
        break;
      case "file": {
        const written = await restoreFile(store, full, v);
        if (E.isLeft(written)) return written;
        report = { ...report, files: report.files + 1, bytes: report.bytes + written.right };
        break;
      }
    }
    onItem(v.path);
  }
  for (const d of dirs.reverse()) {
    const full = join(root, ...d.path.split("/"));
    await chmod(full, d.meta!.mode);
    // The agent records no directory mtime (0: it changes with every entry); a restored directory keeps today's.
    if (d.meta!.mtimeMs > 0) await utimes(full, utimesSeconds(d.meta!.mtimeMs), utimesSeconds(d.meta!.mtimeMs));
  }
  return E.right(report);
};

const restoreFile = async (store: TreeSource, full: string, v: History.Version): Promise<E.Either<RestoreError, number>> => {
  const meta = v.meta!;
  // The manifest must describe the version: its size, and the content digest made from its chunk digests.
  if (Manifest.size(v.manifest) !== meta.size || Manifest.contentDigest(v.manifest, store.hash) !== meta.digest) return E.left({ _tag: "DigestMismatch", path: v.path });
  const temp = join(full, "..", `.tidemark-restore-${randomBytes(6).toString("hex")}`);
  const handle = await open(temp, "wx", meta.mode);
  // A failure — a refused chunk, or the store lost mid-file — leaves no temporary file behind.
  let written: E.Either<RestoreError, number> | undefined;
  try {
    written = await writeChunks(store, handle, v);
    if (E.isRight(written)) await handle.sync();
  } finally {
    await handle.close();
    if (written === undefined || E.isLeft(written)) await rm(temp, { force: true });
  }
  if (E.isLeft(written)) return written;
  await chmod(temp, meta.mode);
  await utimes(temp, utimesSeconds(meta.mtimeMs), utimesSeconds(meta.mtimeMs));
  await clearFor(full, false);
  await rename(temp, full);
  return written;
};

/**
 * Writes a version's chunks in order, one at a time: a restore holds one chunk, not the file (a whole
 * file in memory cost twice its size, and one over 4 GiB could not be restored at all). Each chunk's
 * bytes are hashed against its digest — a chunk damaged on disk fails the restore, not restores wrong
 * data — and a chunk repeated in a row (a run of zeros) is fetched once.
 */
const writeChunks = async (store: TreeSource, handle: FileHandle, v: History.Version): Promise<E.Either<RestoreError, number>> => {
  let last: { readonly digest: string; readonly bytes: Uint8Array } | undefined;
  let at = 0;
  for (const ref of v.manifest) {
    const bytes = last?.digest === ref.digest ? last.bytes : await store.chunk(ref.digest);
    if (bytes === undefined || bytes.length !== ref.size) return E.left({ _tag: "ChunkMissing", path: v.path, digest: ref.digest });
    if (last?.digest !== ref.digest && Digest.of(store.hash, bytes) !== ref.digest) return E.left({ _tag: "DigestMismatch", path: v.path });
    await appendPieces(handle, [bytes]);
    at += bytes.length;
    last = { digest: ref.digest, bytes };
  }
  return E.right(at);
};
