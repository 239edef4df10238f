// @ts-self-types="./bundle.d.mts"
/**
 * bundle — one JavaScript file built from a TypeScript entry and everything it imports (esbuild),
 * kept up to date with its sources, for the `tidemark` command to run from. Loading the sources one
 * by one through tsx made every command spend most of a second starting (`tidemark --help`: 0.97 s,
 * against 0.15 s from a bundle), and the agent's comparison of a 100,000-file tree used ~80 ms more
 * CPU. The bundle is rebuilt whenever a source file is added, removed or changed (or the installed
 * packages change), so it never runs code older than the sources. Plain JavaScript: it runs before
 * any TypeScript loader.
 *
 * Native packages stay outside the bundle and are loaded from `node_modules` as usual.
 *
 * @example
 * const file = freshBundle({ entry: "/pkg/adapters/cli/main.ts", sources: ["/pkg/core", "/pkg/adapters"], out: "/pkg/node_modules/.cache/tidemark/cli.mjs" });
 * if (file !== undefined) await import(pathToFileURL(file).href); // else: load the sources through tsx
 *
 * @module
 */
import { lstatSync, mkdirSync, openSync, readdirSync, readSync, closeSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** Packages with native parts: loaded from `node_modules` by the bundle, not copied into it. */
const native = ["classic-level", "@parcel/watcher"];

/**
 * The count of the `.ts` files under each of `dirs`, and the sums of their sizes and modification
 * times with those of `also` (where they exist): any file added, removed, or written (even with an
 * older time) changes it.
 */
const stampOf = (dirs, also) => {
  let [count, bytes, times] = [0, 0, 0];
  const add = (st) => {
    bytes += st.size;
    times += st.mtimeMs;
  };
  const visit = (dir) => {
    // In name order: the sum of times, as doubles, depends on the order it is added in.
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) visit(path);
      else if (e.name.endsWith(".ts")) {
        count++;
        add(lstatSync(path));
      }
    }
  };
  for (const dir of dirs) visit(dir);
  for (const file of also) {
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (st !== undefined) add(st);
  }
  return `${count}:${bytes}:${times}`;
};

/** Removes `file` when it exists (and its place can be reached at all). */
const removeIfThere = (file) => {
  try {
    rmSync(file, { force: true });
  } catch {
    // Its directory is not one: nothing was written there.
  }
};

/** The first line of `file`, or "" when it cannot be read. */
const firstLine = (file) => {
  let fd;
  try {
    fd = openSync(file, "r");
    // Room for a long install path in the header.
    const head = Buffer.alloc(8192);
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString("utf8");
    return text.slice(0, Math.max(0, text.indexOf("\n")));
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
};

/**
 * esbuild's API, loaded only to build (it costs a fresh command's start otherwise). Loaded here
 * first, it runs each build as a child process that ends with it, not as a service that would live
 * as long as the command (an agent runs for days). Its binary comes with the package for this
 * platform; anything amiss and the caller falls back.
 */
const loadEsbuild = () => {
  const before = process.env.ESBUILD_WORKER_THREADS;
  process.env.ESBUILD_WORKER_THREADS = "0";
  try {
    return createRequire(import.meta.url)("esbuild");
  } finally {
    if (before === undefined) delete process.env.ESBUILD_WORKER_THREADS;
    else process.env.ESBUILD_WORKER_THREADS = before;
  }
};

/**
 * The path of a bundle of `entry` at `out`, built now if it is missing or older than the sources
 * (the `.ts` files under `sources`, and the files of `also`, such as the installed packages' lock);
 * undefined when it cannot be built or written (the caller then loads the sources another way).
 */
export const freshBundle = ({ entry, sources, also = [], out }) => {
  let header;
  try {
    header = `// tidemark bundle of ${entry} from ${stampOf(sources, also)}`;
  } catch {
    return undefined;
  }
  if (firstLine(out) === header) return out;
  const temporary = `${out}.${process.pid}.tmp`;
  try {
    const { buildSync } = loadEsbuild();
    const built = buildSync({ entryPoints: [entry], bundle: true, platform: "node", format: "esm", target: "node20", external: native, write: false, logLevel: "silent", banner: { js: `${header}\nimport { createRequire as __tidemarkRequire } from "node:module"; const require = __tidemarkRequire(import.meta.url);` } });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(temporary, built.outputFiles[0].contents);
    // Renamed into place whole: another command starting meanwhile sees the old bundle or the new one.
    renameSync(temporary, out);
    return out;
  } catch {
    removeIfThere(temporary);
    return undefined;
  }
};

/** This package's directories, relative to this file. */
const inPackage = (path) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/**
 * A bundle of one of this package's entry files at `node_modules/.cache/tidemark/NAME.mjs`, kept up
 * to date with the package's sources (core, store, adapters, and `more` directories) and its
 * installed packages: `freshBundle` with the package's own places, named once for every caller.
 */
export const packageBundle = (entry, name, more = []) =>
  freshBundle({
    entry,
    sources: [inPackage("core"), inPackage("store"), inPackage("adapters"), ...more],
    also: [inPackage("node_modules/.package-lock.json")],
    out: inPackage(`node_modules/.cache/tidemark/${name}.mjs`),
  });
