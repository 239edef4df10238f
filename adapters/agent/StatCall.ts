/**
 * StatCall — `lstat` as the five numbers the stat cache keys on (`TreeScan.StatData`), for the loops
 * that stat every file of a tree: the scan, and the check of a listing against the stat cache. On
 * Node 20, `fs.lstatSync` builds a `Stats` object with four `Date`s at every call; in a scan of
 * 100,000 files the dates alone took ~40 ms of a thread's ~400, and made most of its garbage. Node's
 * file system binding, which `lstatSync` calls, gives the numbers without them. It is used where it
 * exists and agrees with `lstatSync` on a first call; otherwise (Deno, a Node without it, or a Node
 * run with `--pending-deprecation`, which would warn of its use) the calls go through `lstatSync`.
 *
 * @example
 * const st = StatCall.lstat("/srv/data/a.txt");   // { size, mtimeMs, ctimeMs, ino, mode, nlink }, or undefined when gone
 * StatCall.kindOf(st!.mode)                        // "file"
 *
 * @module
 */
import { lstatSync } from "node:fs";
import process from "node:process";
import type { StatData } from "./TreeScan.ts";

/** An item's stat data, or undefined when there is no item (other failures throw, as `lstatSync`'s do). */
export type Lstat = (abs: string) => StatData | undefined;

/** The calls `choose` picks from. */
export interface Calls {
  readonly lstatSync: typeof import("node:fs").lstatSync;
  /** Node's file system binding (`process.binding("fs")`), when it may be used. */
  readonly binding: { readonly lstat?: unknown } | undefined;
}

/**
 * An `Lstat` through the binding, when it gives what `lstatSync` gives for `probe` (a path that
 * exists), else through `lstatSync`. Self-contained — it uses only its arguments and declares no
 * named function (a TypeScript loader wraps those in a helper the worker lacks) — because the
 * scan's worker runs it from its source text.
 *
 * @category constructors
 */
export const choose = (calls: Calls, probe: string): Lstat => {
  const [viaSync, viaBinding]: readonly [Lstat, Lstat] = [
    (abs) => {
      const st = calls.lstatSync(abs, { throwIfNoEntry: false });
      return st === undefined ? undefined : { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode, nlink: st.nlink };
    },
    (abs) => {
      // A shared array, refilled by the next call: [dev, mode, nlink, uid, gid, rdev, blksize, ino,
      // size, blocks, atime s, ns, mtime s, ns, ctime s, ns, …]; times in milliseconds as lstatSync makes them.
      const s = (calls.binding!.lstat as (path: string, bigint: boolean, req: undefined, throwIfNoEntry: boolean) => Float64Array | undefined)(abs, false, undefined, false);
      return s === undefined ? undefined : { size: s[8]!, mtimeMs: s[12]! * 1e3 + s[13]! / 1e6, ctimeMs: s[14]! * 1e3 + s[15]! / 1e6, ino: s[7]!, mode: s[1]!, nlink: s[2]! };
    },
  ];
  if (typeof calls.binding?.lstat !== "function") return viaSync;
  try {
    const [a, b] = [viaBinding(probe), viaSync(probe)];
    const agree = a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.mode === b.mode && a.nlink === b.nlink;
    return agree ? viaBinding : viaSync;
  } catch {
    return viaSync;
  }
};

/** Whether this process may use Node's binding, where it has one: not when it was asked to warn of deprecated APIs. */
export const bindingAllowed = (): boolean =>
  !process.execArgv.includes("--pending-deprecation") && !/--pending-deprecation/.test(process.env.NODE_OPTIONS ?? "") && process.env.NODE_PENDING_DEPRECATION !== "1";

/** Node's file system binding, when it may be used. */
const binding = (): Calls["binding"] => {
  if (!bindingAllowed()) return undefined;
  try {
    return (process as unknown as { binding?: (name: string) => Calls["binding"] }).binding?.("fs");
  } catch {
    return undefined;
  }
};

let chosen: Lstat | undefined;

/**
 * This thread's `Lstat` (chosen at its first call, checked against the Node binary's own stat data).
 *
 * @category calls
 */
export const lstat: Lstat = (abs) => (chosen ??= choose({ lstatSync, binding: binding() }, process.execPath))(abs);

/**
 * The kind of item a stat's mode says, of the kinds a tree holds.
 *
 * @example
 * kindOf(0o100644)   // "file"
 * @category getters
 */
export const kindOf = (mode: number): "file" | "dir" | "symlink" | undefined => {
  const format = mode & 0o170000;
  return format === 0o100000 ? "file" : format === 0o040000 ? "dir" : format === 0o120000 ? "symlink" : undefined;
};
