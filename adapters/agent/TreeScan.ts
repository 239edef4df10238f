/**
 * TreeScan — reads every directory of a tree and stats every entry in a worker thread, so the
 * agent's own thread is free meanwhile (at start it reads its stat cache and connects to the store;
 * on a tree of 100,000 files the scan's `lstat` calls alone take ~0.3 s). The comparison then
 * matches files against the stat cache by the scan's stat data instead of stat'ing each again: as
 * if each had been stat'ed when the tree was listed (a change after that reaches the agent as a
 * live change, as it would after a stat made later).
 *
 * The worker reads the root first and hands out its subdirectories one at a time through a shared
 * counter, so the agent's thread, once free (having read its stat cache), can read some of them too
 * (`help`) instead of waiting: on 2 cores a 100,000-file scan then ends about when it would have
 * been half done.
 *
 * @example
 * const scan = TreeScan.scan("/srv/data", ["/srv/data/.spool"]);
 * await scan.help();                 // optional: this thread reads unclaimed subtrees meanwhile
 * const scanned = await scan.result;
 * const dir = scanned?.get("/srv/data");   // its entries dir.from…dir.to-1, in the order the directory gave them
 * dir?.names[dir.from]; TreeScan.kindAt(dir!, dir!.from); TreeScan.statAt(dir!, dir!.from)
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { sep } from "node:path";
import { Worker } from "node:worker_threads";
import { yieldTurn } from "./EventLoop.ts";
import * as StatCall from "./StatCall.ts";

/** What a stat call gave for an entry (the fields the stat cache keys on). */
export interface StatData {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly mode: number;
  /** How many names (hard links) the file has, where the call gives it (`StatCall.lstat`; not the scan). */
  readonly nlink?: number;
}

/**
 * The stat cache's key of stat data: equal keys, unchanged file (unless its timestamp is racy). Times
 * are in whole microseconds (a millisecond time as a double holds about a quarter of one at today's
 * dates, and file systems stamp times from a clock that ticks every few milliseconds): an integer is
 * written in a third of the time a fraction takes.
 */
export const statKey = (st: StatData): string => `${st.size}:${Math.round(st.mtimeMs * 1000)}:${Math.round(st.ctimeMs * 1000)}:${st.ino}:${st.mode}`;

/**
 * The kinds of entry a scan keeps: an item, or a name that is not valid UTF-8 (read back with
 * U+FFFD in its place, it names nothing, and the item cannot be read or protected: it is kept so the
 * listing can say so).
 */
export type Kind = "file" | "dir" | "symlink" | "undecodable";

/**
 * A directory's entries as a thread read them: entries `from`…`to`-1 of that thread's columns (a
 * directory's entries lie together there). No object per entry: on a tree of 100,000 files making
 * them cost the agent's thread ~45 ms. Nor a string: the stat data stay numbers (writing each as its
 * stat key, and sending the keys, made a 100,000-file scan take 250–270 ms against 165–185 ms).
 */
export interface ScannedDir {
  readonly names: ReadonlyArray<string>;
  /** Per entry: the index of its directory, its kind (in `kinds`), then its stat data (size, mtime, ctime, inode, mode). */
  readonly numbers: ArrayLike<number>;
  readonly from: number;
  readonly to: number;
}

/** Each directory's entries, by its absolute path. */
export type Scanned = ReadonlyMap<string, ScannedDir>;

const kinds = ["file", "dir", "symlink", "undecodable"] as const;
const undecodable = 3;
const fieldsPerEntry = 7;

/** The kind of entry `i` of a scanned directory. */
export const kindAt = (d: ScannedDir, i: number): Kind => kinds[d.numbers[i * fieldsPerEntry + 1]!]!;

/** The stat data of entry `i` of a scanned directory (zeros for one read without them: `readDir`). */
export const statAt = (d: ScannedDir, i: number): StatData => {
  const at = i * fieldsPerEntry;
  const n = d.numbers;
  return { size: n[at + 2]!, mtimeMs: n[at + 3]!, ctimeMs: n[at + 4]!, ino: n[at + 5]!, mode: n[at + 6]! };
};

/**
 * One directory's entries of the kinds a scan keeps, read on this thread without stat data (zeros
 * in their place), in the scan's form; undefined when it cannot be read.
 */
export const readDir = (abs: string): ScannedDir | undefined => {
  const names: Array<string> = [];
  const numbers: Array<number> = [];
  try {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const lost = e.name.includes("\ufffd") && StatCall.lstat(abs + sep + e.name) === undefined;
      const kind = lost ? undecodable : e.isFile() ? 0 : e.isDirectory() ? 1 : e.isSymbolicLink() ? 2 : -1;
      if (kind < 0) continue;
      names.push(e.name);
      numbers.push(0, kind, 0, 0, 0, 0, 0);
    }
  } catch {
    return undefined;
  }
  return { names, numbers, from: 0, to: names.length };
};

/** Entries as one thread read them: directories by index; per entry its name and [directory index, kind, stat data]. */
interface Packed {
  readonly dirs: Array<string>;
  readonly names: Array<string>;
  readonly numbers: Array<number>;
}

/** The file system calls a walk makes (passed in: the walk also runs in the worker from its source text). */
interface WalkCalls {
  readonly readdirSync: typeof import("node:fs").readdirSync;
  readonly lstat: StatCall.Lstat;
  readonly kindOf: typeof StatCall.kindOf;
}

/**
 * Reads the directory `abs` into `out`, and everything under it unless `shallow` (then its
 * subdirectories are returned, for others to read). Self-contained — it uses only its arguments and
 * declares no named function (a TypeScript loader wraps those in a helper the worker lacks) —
 * because the worker runs it from its source text.
 */
const walkInto = (calls: WalkCalls, abs: string, excluded: ReadonlyArray<string>, sep: string, out: Packed, shallow: boolean): Array<string> => {
  const below: Array<string> = [];
  const pending = [abs];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    // Names only: each entry's lstat gives its kind (a directory entry object per name cost more).
    let names;
    try {
      names = calls.readdirSync(dir);
    } catch {
      continue;
    }
    const d = out.dirs.length;
    out.dirs.push(dir);
    const inside = dir.endsWith(sep) ? dir : dir + sep;
    const excludes = excluded.some((x) => x.startsWith(inside));
    for (const name of names) {
      const child = inside + name;
      if (excludes && excluded.some((x) => child === x || child.startsWith(x + sep))) continue;
      let st;
      try {
        st = calls.lstat(child);
      } catch {
        continue;
      }
      // A name not valid UTF-8 (read back with U+FFFD) names nothing: kept, as kind 3, to be reported.
      if (st === undefined && name.includes("\ufffd")) {
        out.names.push(name);
        out.numbers.push(d, 3, 0, 0, 0, 0, 0);
      }
      if (st === undefined) continue;
      const type = calls.kindOf(st.mode);
      const kind = type === "file" ? 0 : type === "dir" ? 1 : type === "symlink" ? 2 : -1;
      if (kind < 0) continue;
      out.names.push(name);
      out.numbers.push(d, kind, st.size, st.mtimeMs, st.ctimeMs, st.ino, st.mode);
      if (kind === 1) (shallow ? below : pending).push(child);
    }
  }
  return below;
};

/** Directory levels below the root whose subdirectories may be the units of work, and how many units are too few to stop there. */
const unitLevels = 3;
const fewUnits = 64;

// Plain JavaScript, evaluated in the worker: no TypeScript loader needed there. It reads the root,
// posts its subdirectories (the units of work), then reads units as long as there are unclaimed ones
// (the agent's thread may claim some too, through the shared counter), and sends what it read: the
// names as one string and the numbers as one transferred array, which cost the receiving thread
// next to nothing.
const workerCode = `
const { readdirSync, lstatSync } = require("node:fs");
const { parentPort, workerData } = require("node:worker_threads");
const { root, excluded, sep, claims, bindingAllowed } = workerData;
let binding;
try {
  binding = bindingAllowed ? process.binding("fs") : undefined;
} catch {}
const lstat = (${StatCall.choose.toString()})({ lstatSync, binding }, process.execPath);
const calls = { readdirSync, lstat, kindOf: ${StatCall.kindOf.toString()} };
const walkInto = ${walkInto.toString()};
const out = { dirs: [], names: [], numbers: [] };
// Units small enough that the two threads end close together: the root's subdirectories, or theirs.
let units = walkInto(calls, root, excluded, sep, out, true);
for (let level = 1; level < ${unitLevels} && units.length < ${fewUnits}; level++) units = units.flatMap((u) => walkInto(calls, u, excluded, sep, out, true));
parentPort.postMessage({ units });
for (let i = Atomics.add(claims, 0, 1); i < units.length; i = Atomics.add(claims, 0, 1)) walkInto(calls, units[i], excluded, sep, out, false);
const packed = new Float64Array(out.numbers);
parentPort.postMessage({ dirs: out.dirs, names: out.names.join("\\u0000"), numbers: packed }, [packed.buffer]);
`;

interface Reply {
  readonly dirs: ReadonlyArray<string>;
  readonly names: string;
  readonly numbers: Float64Array;
}

/** Adds each directory one thread read, as the run of its entries in that thread's columns. */
const addDirs = (out: Map<string, ScannedDir>, dirs: ReadonlyArray<string>, names: ReadonlyArray<string>, numbers: ArrayLike<number>): void => {
  let at = 0;
  for (const [d, dir] of dirs.entries()) {
    const from = at;
    while (at < names.length && numbers[at * fieldsPerEntry] === d) at++;
    out.set(dir, { names, numbers, from, to: at });
  }
};

/** A scan under way: its result, and a way for the agent's thread to take part once it is free. */
export interface Scan {
  /** Each directory's entries, or `undefined` when a worker thread cannot be used (the caller reads the tree itself). */
  readonly result: Promise<Scanned | undefined>;
  /**
   * Reads units of the scan (subdirectories of the root not yet claimed by the worker) on this
   * thread, yielding between them, until none is left: on a large tree the worker's `lstat` calls
   * are the longest part of a start, while this thread often waits for them.
   */
  readonly help: () => Promise<void>;
}

/**
 * Scans the tree at `root` (an absolute path), skipping `excluded` absolute paths and their
 * subtrees, in a worker thread (`help` lets this thread share the work).
 *
 * @category scanning
 */
export const scan = (root: string, excluded: ReadonlyArray<string>): Scan => {
  const claims = new Int32Array(new SharedArrayBuffer(4));
  const mine: Packed = { dirs: [], names: [], numbers: [] };
  let units: ((u: ReadonlyArray<string>) => void) | undefined;
  const unitsKnown = new Promise<ReadonlyArray<string>>((resolve) => (units = resolve));
  let helping: Promise<void> | undefined;
  const result = new Promise<Scanned | undefined>((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(workerCode, { eval: true, workerData: { root, excluded: [...excluded], sep, claims, bindingAllowed: StatCall.bindingAllowed() } });
    } catch {
      units!([]);
      return resolve(undefined);
    }
    // The worker exits once it has replied; only an exit or error before that is a failure.
    let replied = false;
    worker.on("message", (reply: Reply | { readonly units: ReadonlyArray<string> }) => {
      if ("units" in reply) return units!(reply.units);
      replied = true;
      void (helping ?? Promise.resolve()).then(() => {
        const out = new Map<string, ScannedDir>();
        addDirs(out, reply.dirs, reply.names === "" ? [] : reply.names.split("\u0000"), reply.numbers);
        addDirs(out, mine.dirs, mine.names, mine.numbers);
        resolve(out);
      });
    });
    const fail = () => {
      units!([]);
      if (!replied) resolve(undefined);
    };
    worker.once("error", fail);
    worker.once("exit", fail);
  });
  const help = (): Promise<void> =>
    (helping ??= (async () => {
      const all = await unitsKnown;
      const calls: WalkCalls = { readdirSync, lstat: StatCall.lstat, kindOf: StatCall.kindOf };
      for (let i = Atomics.add(claims, 0, 1); i < all.length; i = Atomics.add(claims, 0, 1)) {
        walkInto(calls, all[i]!, excluded, sep, mine, false);
        await yieldTurn();
      }
    })());
  return { result, help };
};
