/**
 * Watch — capture for any application: the runtime's watches of every directory of the tree
 * (`TreeWatches`: one `fs.watch` per directory under Node, one recursive `Deno.watchFs` under Deno;
 * a new directory is watched as soon as it appears, and its contents are listed, since files can
 * land in it before the watch does) feed changed paths into the agent's dirty set, where bursts on
 * one path coalesce and the last state is read when the path is decided. Because any watcher can
 * miss events, a periodic reconciling scan compares the tree's listing and stat data with what was
 * last read. Events lost (an overflow) or a tree that cannot be watched mean the tree is compared
 * again. So does the protected directory coming back after it was removed, or replaced by another
 * (moved into its place): its identity (device, inode and birth time) is checked every second, and
 * while it is gone nothing is watched and the agent says so once. `ready` resolves once every
 * directory there at the start has its watch: a listing taken before then could miss a file created
 * after the listing read its directory and before the watch existed (seen: dozens of files created in
 * the first second of an upload were missing from the store until the periodic scan).
 *
 * @example
 * const watch = Watch.start(shell, true);
 * await watch.ready;        // now list the tree: every change after this is reported
 * watch.rescanRequested()   // true once after an overflow
 * watch.stop();
 *
 * @module
 */
import { lstatSync } from "node:fs";
import { lstat } from "node:fs/promises";
import * as DirectoryWatches from "./DirectoryWatches.ts";
import * as RecursiveWatch from "./RecursiveWatch.ts";
import type { Shell } from "./Shell.ts";
import type { Report, TreeWatches } from "./TreeWatches.ts";

/** A running watch. */
export interface Running {
  /** Resolves once every directory of the tree at the start is watched (at once when not watching). */
  readonly ready: Promise<void>;
  /** True (once) when the watcher overflowed or failed, or the root came back, and the tree must be compared. */
  readonly rescanRequested: () => boolean;
  /** Checks the root now (as every second): gone, back, or replaced. */
  readonly checkRoot: () => void;
  readonly stop: () => void;
}

/** The runtime's watches: one recursive watch under Deno, one watch per directory under Node. */
const watchesFor = (shell: Shell, report: Report): TreeWatches => {
  const deno = RecursiveWatch.runtime();
  return deno === undefined ? DirectoryWatches.start(shell, report) : RecursiveWatch.start(deno, shell, report);
};

/**
 * Starts watching the shell's tree (when `watching`; the reconciling scan always).
 *
 * @category constructors
 */
export const start = (shell: Shell, watching: boolean): Running => {
  let overflow = false;
  const report: Report = {
    changed: (abs, structural) => {
      const path = shell.tree.pathOf(abs);
      if (path === undefined) return;
      shell.dirty.add(path);
      if (structural) {
        // Said at once, before the directory is looked at: it may be decided first.
        shell.arrived.add(path);
        void adopt(abs);
      }
      shell.wake();
    },
    lost: (why) => {
      if (why !== undefined) shell.log(why);
      overflow = true;
      shell.wake();
    },
  };
  const watches = watchesFor(shell, report);

  /**
   * A name appeared or vanished: a new directory gets its watches, a vanished one loses them. A
   * directory there now may have taken the place of one still watched under its path (moved away,
   * and another made or moved in): those watches follow the old one, so the path's are made anew.
   */
  const adopt = async (abs: string): Promise<void> => {
    const st = await lstat(abs).catch(() => undefined);
    if (st === undefined) return watches.unwatch(abs);
    if (!st.isDirectory()) return;
    await watches.watch(abs);
    // Whatever landed in it before its watch existed.
    const path = shell.tree.pathOf(abs);
    if (path === undefined) return;
    for (const child of await shell.tree.list(path)) shell.dirty.add(child);
    shell.wake();
  };

  const root = shell.tree.root;
  /**
   * The root's device, inode and birth time while it is a directory; undefined while it is gone. (A
   * directory removed and made again often gets the same inode at once: its birth time tells them apart.)
   */
  const identityOf = (): string | undefined => {
    const st = lstatSync(root, { throwIfNoEntry: false });
    return st?.isDirectory() === true ? `${st.dev}:${st.ino}:${st.birthtimeMs}` : undefined;
  };
  const sayGone = () => shell.log(`${root} is gone: nothing there is captured until it is back (the store keeps its last state)`);
  let rootIdentity = identityOf();
  if (rootIdentity === undefined) sayGone();
  const checkRoot = (): void => {
    const now = identityOf();
    if (now === rootIdentity) return;
    if (now === undefined || !watching) watches.unwatch(root);
    if (now === undefined) sayGone();
    else {
      shell.log(`${root} is ${rootIdentity === undefined ? "back" : "another directory now"}: comparing it with the store`);
      if (watching) void watches.watch(root);
      overflow = true;
      shell.wake();
    }
    rootIdentity = now;
  };
  const rootChecker = setInterval(checkRoot, 1000);

  const ready = watching
    ? watches.watch(root).catch((e) => {
      shell.log(`cannot watch ${shell.tree.root} (${(e as Error).message}); the periodic scan catches changes meanwhile`);
      overflow = true;
    })
    : Promise.resolve();

  // The reconciling scan: anything listed now or before whose stat data changed since it was read.
  // Before its first listing, "before" is the last comparison's: a file deleted after it, where no
  // watch saw it go (a directory the kernel's limit left unwatched), is found by the first scan.
  let previous: Set<string> | undefined;
  let scanning = false;
  const scan = async () => {
    if (scanning || shell.state._tag !== "backup") return;
    scanning = true;
    try {
      const before = previous ?? new Set<string>(shell.listing);
      const now = await shell.tree.list();
      const current = new Set<string>(now);
      for (const p of before) if (!current.has(p)) shell.dirty.add(p);
      for (const p of now) if (!(await shell.tree.isUnchanged(p))) shell.dirty.add(p);
      previous = current;
      if (shell.dirty.size > 0) shell.wake();
    } finally {
      scanning = false;
    }
  };
  const scanner = setInterval(() => void scan().catch(() => undefined), shell.options.scanIntervalMs ?? 60_000);

  return {
    ready,
    checkRoot,
    rescanRequested: () => {
      const was = overflow;
      overflow = false;
      return was;
    },
    stop: () => {
      clearInterval(scanner);
      clearInterval(rootChecker);
      watches.stop();
    },
  };
};
