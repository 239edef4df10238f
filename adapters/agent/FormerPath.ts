/**
 * FormerPath — where an item that appeared at a path was before it moved. A file keeps its inode
 * when it is renamed or its directory moves, and the stat cache remembers each file it read with its
 * inode: the path it remembers with this file's inode, which no longer holds that inode, is where it
 * came from. A directory's former path is found through its files (directories are not cached).
 * These are hints: the store's version there must still have the same content for a move to be sent.
 *
 * @example
 * // after `mv docs/a.txt notes/a.txt`
 * FormerPath.ofFile(cache, "notes/a.txt", lstat("notes/a.txt"), statAt)   // "docs/a.txt"
 * // after `mv docs notes`
 * FormerPath.ofDirectory(cache, "notes", ["notes/a.txt"], statAt)          // "docs"
 *
 * @module
 */
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
