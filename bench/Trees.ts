/**
 * Trees — the resync benchmark's data: a deterministic tree of mixed file sizes with a few large
 * files, the change sets of each scenario, and a byte-for-byte comparison of two trees (by SHA-256 of
 * every file's content, plus modes and link targets).
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { appendFile, chmod, lstat, mkdir, open, readdir, readFile, readlink, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A deterministic pseudo-random generator. */
export const random = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
};

/**
 * Random bytes (not reproducible: content must not repeat, or both tools would find matches that
 * real data does not have).
 */
const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** Sizes of small files: mostly a few KiB, some tens to hundreds of KiB. */
const smallSize = (rnd: () => number): number => {
  const r = rnd();
  return r < 0.6 ? (rnd() * 8192) | 0 : r < 0.9 ? (rnd() * 131072) | 0 : (rnd() * 1048576) | 0;
};

/** The path of small file `i`: spread over 100 directories two levels deep. */
export const smallPath = (i: number): string => join(`d${i % 10}`, `e${(i / 10 | 0) % 10}`, `f${i}.dat`);

/** Writes `files` small files (of `size(rnd)` bytes, mixed by default) and the given large files under `root`. */
export const build = async (root: string, seed: number, files: number, large: ReadonlyArray<number>, size: (rnd: () => number) => number = smallSize): Promise<number> => {
  const rnd = random(seed);
  let total = 0;
  for (let i = 0; i < files; i++) {
    const full = join(root, smallPath(i));
    if (i < 100) await mkdir(join(full, ".."), { recursive: true });
    const data = bytes(size(rnd));
    await writeFile(full, data);
    total += data.length;
  }
  await mkdir(join(root, "large"), { recursive: true });
  for (const [i, size] of large.entries()) {
    const data = bytes(size);
    await writeFile(join(root, "large", `big${i}.bin`), data);
    total += data.length;
  }
  return total;
};

/** Every regular file under `root`, relative, sorted. */
export const listFiles = async (root: string): Promise<Array<string>> =>
  (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(root.length + 1))
    .sort();

/** A tree's content: relative path → "mode sha256" (files), "dir", or "link target". */
export const digestTree = async (root: string): Promise<Map<string, string>> => {
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    const rel = full.slice(root.length + 1);
    const st = await lstat(full);
    if (st.isSymbolicLink()) out.set(rel, `link ${await readlink(full)}`);
    else if (st.isDirectory()) out.set(rel, "dir");
    else out.set(rel, `${(st.mode & 0o777).toString(8)} ${createHash("sha256").update(await readFile(full)).digest("hex")}`);
  }
  return out;
};

/** Paths where two digested trees differ. */
export const differ = (a: Map<string, string>, b: Map<string, string>): Array<string> =>
  [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));

/** Small in-place writes (100 bytes each) to `fraction` of the small files. */
export const editInPlace = async (root: string, rnd: () => number, fraction: number): Promise<void> => {
  const files = (await listFiles(root)).filter((f) => !f.startsWith("large/"));
  for (const f of files.filter(() => rnd() < fraction)) {
    const h = await open(join(root, f), "r+");
    const size = (await h.stat()).size;
    await h.write(bytes(100), 0, Math.min(100, size), size <= 100 ? 0 : (rnd() * (size - 100)) | 0);
    await h.close();
  }
};

/** Appends `n` bytes to every large file. */
export const appendLarge = async (root: string, n: number): Promise<void> => {
  for (const f of (await listFiles(root)).filter((f) => f.startsWith("large/"))) await appendFile(join(root, f), bytes(n));
};

/** Inserts a few bytes near the start of every large file (the rest shifts). */
export const insertNearStart = async (root: string): Promise<void> => {
  for (const f of (await listFiles(root)).filter((f) => f.startsWith("large/"))) {
    const data = await readFile(join(root, f));
    await writeFile(join(root, f), Buffer.concat([data.subarray(0, 1000), Buffer.from("inserted!"), data.subarray(1000)]));
  }
};

/** Renames or moves `n` small files between directories. */
export const moveFiles = async (root: string, rnd: () => number, n: number): Promise<void> => {
  const files = (await listFiles(root)).filter((f) => !f.startsWith("large/"));
  for (let i = 0; i < n; i++) {
    const f = files.splice((rnd() * files.length) | 0, 1)[0]!;
    await rename(join(root, f), join(root, `d${(i * 3) % 10}`, `e${(i * 7) % 10}`, `moved-${i}-${f.split("/").pop()}`));
  }
};

/** Deletes `fraction` of the small files and creates as many new ones (named with `tag`, so a second churn creates, not overwrites). */
export const churn = async (root: string, rnd: () => number, fraction: number, tag = ""): Promise<void> => {
  const files = (await listFiles(root)).filter((f) => !f.startsWith("large/"));
  const doomed = files.filter(() => rnd() < fraction);
  for (const f of doomed) await rm(join(root, f));
  for (let i = 0; i < doomed.length; i++) await writeFile(join(root, `d${i % 10}`, `e${(i * 3) % 10}`, `new-${tag}${i}.dat`), bytes(smallSize(rnd)));
};

/** Rewrites every file with new content of the same size. */
export const rewriteAll = async (root: string): Promise<void> => {
  for (const f of await listFiles(root)) {
    const full = join(root, f);
    await writeFile(full, bytes((await lstat(full)).size));
  }
};

/** Changes one small file. */
export const touchOne = async (root: string): Promise<void> => {
  const f = join(root, smallPath(0));
  await writeFile(f, `changed at ${Date.now()}\n`);
  await chmod(f, 0o644);
};
