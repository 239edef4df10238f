/**
 * DirectoryWatches — the watches of a tree under Node: one `fs.watch` per directory (inotify on
 * Linux). Node's recursive watch re-reads a directory on every event in it, which cost more than half
 * the agent's CPU under steady writes to a large directory, so each directory has its own. A new
 * directory gets its watches when `watch` is called for it, each before its directory is read.
 *
 * Node does not pass on inotify's overflow event: as many events read at once as the kernel's queue
 * holds counts as one (seen by hand, `rm -r` of a directory of 30,000 files lost the events past the
 * queue's 16,384), and so does an event without a name.
 *
 * @example
 * const watches = DirectoryWatches.start(shell, { changed: (abs, structural) => …, lost: (why) => … });
 * await watches.watch(shell.tree.root);   // every directory below is watched
 * watches.unwatch(shell.tree.root);
 *
 * @module
 */
import { watch as fsWatch, type FSWatcher, lstatSync, readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join, sep } from "node:path";
import { setImmediate } from "node:timers";
import type { Shell } from "./Shell.ts";
import type { Report, TreeWatches } from "./TreeWatches.ts";

/**
 * Watcher events read at once that mean the kernel's queue was full, so events were lost: Linux's
 * `fs.inotify.max_queued_events` (libuv reads the queue out in one go, before the event loop goes on),
 * less a margin for events queued while it is read; 16,384 where it cannot be read.
 *
 * @category limits
 */
export const queueLimit = (): number => {
  try {
    const limit = Number(readFileSync("/proc/sys/fs/inotify/max_queued_events", "utf8").trim());
    return Number.isSafeInteger(limit) && limit > 64 ? limit - 32 : 16_384 - 32;
  } catch {
    return 16_384 - 32;
  }
};

/** Whether `dir` is `abs` or below it. */
const within = (dir: string, abs: string): boolean => dir === abs || dir.startsWith(abs + sep);

/**
 * Counts the events read before the event loop comes round again: a full queue's worth means some
 * were lost.
 */
const burstCounter = (report: Report): () => void => {
  const limit = queueLimit();
  let burst = 0;
  return () => {
    if (burst++ > 0) return;
    setImmediate(() => {
      if (burst >= limit) report.lost(`${burst} watcher events came at once, as many as the kernel's queue holds: some may be lost, so the tree is compared with the store`);
      burst = 0;
    });
  };
};

/**
 * Starts a tree's per-directory watches (none yet: `watch` makes them).
 *
 * @category constructors
 */
export const start = (shell: Shell, report: Report): TreeWatches => {
  let stopped = false;
  const watchers = new Map<string, FSWatcher>();
  const counted = burstCounter(report);
  let warned = false;

  /**
   * Watches taken off their paths while new ones are made there, each closed once its path's new
   * watch exists (or the new walk is over). Closed first, the old watch took the new one with it
   * under Deno's `node:fs`: seen by hand, a directory moved out and back in was never watched again.
   */
  const retiring = new Map<string, FSWatcher>();
  const closeRetired = (abs: string): void => {
    for (const [dir, w] of retiring) {
      if (!within(dir, abs)) continue;
      w.close();
      retiring.delete(dir);
    }
  };
  /** Takes the watches of `abs` and below off their paths, to be closed once new ones are made. */
  const retire = (abs: string): void => {
    closeRetired(abs);
    for (const [dir, w] of watchers) {
      if (!within(dir, abs)) continue;
      retiring.set(dir, w);
      watchers.delete(dir);
    }
  };
  const unwatch = (abs: string): void => {
    retire(abs);
    closeRetired(abs);
  };

  /**
   * True when an event named as the watched directory itself is that directory moved or removed
   * (Node reports its own move under its own name, as if of a child `dir/dir`): nothing is at its path
   * now, or another inode. Its watch follows it to where it went, under a path no longer its own, so
   * it is closed (a new one watches it where it went). A real child of the same name is left alone,
   * and so is the root's watch (the root is followed by its identity, and may come back within a second).
   */
  const movedAway = (abs: string, name: string, ino: number | undefined): boolean => {
    if (abs === shell.tree.root || name !== basename(abs) || lstatSync(abs, { throwIfNoEntry: false })?.ino === ino) return false;
    unwatch(abs);
    return true;
  };

  const watchDir = (abs: string): void => {
    if (stopped || watchers.has(abs)) return;
    try {
      const ino = lstatSync(abs, { throwIfNoEntry: false })?.ino;
      const w = fsWatch(abs, (type, name) => {
        counted();
        if (name === null) report.lost();
        else if (!movedAway(abs, name.toString(), ino)) report.changed(join(abs, name.toString()), type === "rename");
      });
      w.on("error", () => unwatch(abs));
      watchers.set(abs, w);
      retiring.get(abs)?.close();
      retiring.delete(abs);
    } catch (e) {
      // Gone already: its parent's event brought it to the dirty set. Anything else (the kernel's
      // limit on watches) leaves the directory to the periodic scan, and says so once.
      const code = (e as { code?: string }).code;
      if (code === "ENOENT" || code === "ENOTDIR" || warned) return;
      warned = true;
      shell.log(`cannot watch ${abs} (${(e as Error).message}); changes there are found by the periodic scan`);
    }
  };

  /** Watches every directory under `abs` (and `abs`), each before it is read; sibling subtrees at once. */
  const walk = async (abs: string): Promise<void> => {
    watchDir(abs);
    const entries = await readdir(abs, { withFileTypes: true }).catch(() => []);
    const subdirs = entries.filter((e) => e.isDirectory()).map((e) => join(abs, e.name)).filter((child) => shell.tree.pathOf(child) !== undefined);
    await Promise.all(subdirs.map(walk));
  };

  return {
    /** New watches first, then the old ones closed. */
    watch: async (abs) => {
      retire(abs);
      await walk(abs);
      closeRetired(abs);
    },
    unwatch,
    stop: () => {
      stopped = true;
      unwatch(shell.tree.root);
    },
  };
};
