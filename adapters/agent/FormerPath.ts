/**
 * FormerPath — where an item that appeared at a path was before it moved. A file keeps its inode
 * when it is renamed or its directory moves, and the stat cache remembers each file it read with its
 * inode: the path it remembers with this file's inode, which no longer holds that inode, is where it
 * came from. A directory's former path is found through its files (directories are not cached).
 * A directory that moved while nobody watched is found through the files remembered at paths the tree
 * no longer has: a file of a new directory among them (`predecessorOf`), or one remembered below a
 * gone directory found in the tree (`successorOf`), under the same path below the other directory.
 * These are hints: the store's version there must still have the same content for a move to be sent.
 *
 * @example
 * // after `mv docs/a.txt notes/a.txt`
 * FormerPath.ofFile(cache, "notes/a.txt", lstat("notes/a.txt"), statAt)   // "docs/a.txt"
 * // after `mv docs notes`
 * FormerPath.ofDirectory(cache, "notes", ["notes/a.txt"], statAt)          // "docs"
 * // after `mv docs notes` while the agent was stopped (docs/a.txt remembered with inode 2231)
 * FormerPath.predecessorOf("notes", ["notes/a.txt"], [["docs/a.txt", 2231]], statAt)  // "docs"
 * FormerPath.successorOf("docs", [["docs/a.txt", 2231]], listing, statAt)            // "notes"
 *
 * @module
 */
import { isInside } from "../../core/ItemPath.ts";
import type { Remembered } from "./Remembered.ts";
import * as StatCall from "./StatCall.ts";
import type { StatData } from "./TreeScan.ts";

/** One `lstat` of an item path, undefined when nothing is there. */
export type StatAt = (path: string) => StatData | undefined;

/** Files of a new directory looked at for its former path: the first remembered one decides. */
const filesTried = 16;

/**
 * The path a file now at `path` (with stat data `st`) was remembered under, when that path no longer
 * holds this file (a path that still does is another hard link, not a move).
 *
 * @category lookups
 */
export const ofFile = (cache: Remembered, path: string, st: StatData, statAt: StatAt): string | undefined => {
  if (StatCall.kindOf(st.mode) !== "file") return undefined;
  const holder = cache.holderOf(st.ino);
  if (holder === undefined || holder === path) return undefined;
  return statAt(holder)?.ino === st.ino ? undefined : holder;
};

/**
 * The path a directory now at `dir` had, found through its files (`children`, items under it): the
 * first one with a former path decides, when that path is the same file under another directory
 * that is no longer there.
 *
 * @category lookups
 */
export const ofDirectory = (cache: Remembered, dir: string, children: ReadonlyArray<string>, statAt: StatAt): string | undefined => {
  let tried = 0;
  for (const child of children) {
    const st = statAt(child);
    if (st === undefined || StatCall.kindOf(st.mode) !== "file") continue;
    if (++tried > filesTried) return undefined;
    const former = ofFile(cache, child, st, statAt);
    if (former === undefined) continue;
    const below = child.slice(dir.length);
    if (!former.endsWith(below) || former.length === below.length) return undefined;
    const formerDir = former.slice(0, former.length - below.length);
    return formerDir === dir || statAt(formerDir) !== undefined ? undefined : formerDir;
  }
  return undefined;
};

/**
 * Files of a directory looked for elsewhere when it moved while nobody watched (each costs a pass
 * over a list).
 *
 * @category limits
 */
export const unwatchedTried = 4;

/** The directory that holds `other` as `dir` holds `path` (the same path below it), if any. */
const counterpart = (dir: string, path: string, other: string): string | undefined => {
  const below = path.slice(dir.length);
  return other.length > below.length && other.endsWith(below) ? other.slice(0, other.length - below.length) : undefined;
};

/** True when `to` is a directory apart from `dir` (neither is the other or inside it). */
const apart = (dir: string, to: string): boolean => to !== dir && !isInside(to, dir) && !isInside(dir, to);

/**
 * Where a directory now at `dir` was before it moved while nobody watched, found through its files
 * (`children`, items under it) among the files remembered at paths the tree no longer has (`gone`:
 * paths and inodes): the first child found there as the same file (by inode) under the same path
 * below another directory decides, when that directory is not there now.
 *
 * @category lookups
 */
export const predecessorOf = (
  dir: string,
  children: ReadonlyArray<string>,
  gone: ReadonlyArray<readonly [string, number]>,
  statAt: StatAt,
): string | undefined => {
  let tried = 0;
  for (const child of children) {
    const st = statAt(child);
    if (st === undefined || StatCall.kindOf(st.mode) !== "file") continue;
    if (++tried > unwatchedTried) return undefined;
    const was = gone.find(([p, inode]) => inode === st.ino && counterpart(dir, child, p) !== undefined);
    if (was === undefined) continue;
    const from = counterpart(dir, child, was[0])!;
    return apart(dir, from) && statAt(from) === undefined ? from : undefined;
  }
  return undefined;
};

/**
 * Where a directory gone from `dir` is now, found through files remembered below it (`remembered`:
 * their paths and inodes, in key order): the first one found in `listing` (the tree's items now)
 * under the same path below another directory, as the same file (by inode), decides, when that
 * directory is there.
 *
 * @category lookups
 */
export const successorOf = (
  dir: string,
  remembered: ReadonlyArray<readonly [string, number]>,
  listing: ReadonlyArray<string>,
  statAt: StatAt,
): string | undefined => {
  for (const [path, inode] of remembered.slice(0, unwatchedTried)) {
    const now = listing.find((p) => counterpart(dir, path, p) !== undefined && statAt(p)?.ino === inode);
    if (now === undefined) continue;
    const to = counterpart(dir, path, now)!;
    const st = statAt(to);
    return apart(dir, to) && st !== undefined && StatCall.kindOf(st.mode) === "dir" ? to : undefined;
  }
  return undefined;
};
