/**
 * Watch — capture for any application: `fs.watch` on every directory of the tree (inotify on Linux;
 * a new directory gets its watch as soon as it appears, and its contents are listed, since files
 * can land in it before the watch does) feeds changed paths into the agent's dirty set, where bursts
 * on one path coalesce and the last state is read when the path is decided. Because any watcher can
 * miss events, a periodic reconciling scan compares the tree's listing and stat data with what was
 * last read. An event without a name, a tree that cannot be watched, or as many events read at once
 * as the kernel's queue holds counts as an overflow: the tree is compared again. (Node does not pass
 * on inotify's overflow event: seen by hand, `rm -r` of a directory of 30,000 files lost the events
 * past the queue's 16,384, and the store kept those files until the periodic scan a minute later.)
 * So does the protected directory coming back after it was removed, or replaced by another (moved
 * into its place): its identity (device, inode and birth time) is checked every second, and while it
 * is gone nothing is watched and the agent says so once. `ready` resolves once every directory there
 * at the start has its watch: a listing taken before then could miss a file created after the
 * listing read its directory and before the watch existed (seen: dozens of files created in the
 * first second of an upload were missing from the store until the periodic scan).
 *
 * @example
 * const watch = Watch.start(shell, true);
 * await watch.ready;        // now list the tree: every change after this is reported
 * watch.rescanRequested()   // true once after an overflow
 * watch.stop();
 *
 * @module
 */
import { watch as fsWatch, type FSWatcher, lstatSync, readFileSync } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { basename, join, sep } from "node:path";
import { setImmediate } from "node:timers";
import type { Shell } from "./Shell.ts";

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

/**
 * Starts watching the shell's tree (with `fs.watch` when `watching`; the reconciling scan always).
 *
 * @category constructors
 */
export const start = (shell: Shell, watching: boolean): Running => {
  let overflow = false;
  let stopped = false;
  // One watch per directory (Node's recursive watch re-reads a directory on every event in it,
  // which cost more than half the agent's CPU under steady writes to a large directory).
  const watchers = new Map<string, FSWatcher>();
  let warned = false;
  // Events read since the event loop last came round: a full queue's worth means some were lost.
  const limit = queueLimit();
  let burst = 0;
  const counted = (): void => {
    if (burst++ > 0) return;
    setImmediate(() => {
      if (burst >= limit) {
        overflow = true;
        shell.log(`${burst} watcher events came at once, as many as the kernel's queue holds: some may be lost, so the tree is compared with the store`);
        shell.wake();
      }
      burst = 0;
    });
  };

  const within = (dir: string, abs: string): boolean => dir === abs || dir.startsWith(abs + sep);
  /**
   * Watches taken off their paths while new ones are made there, each closed once its path's new
   * watch exists (or the new walk is over). Closed first, the old watch took the new one with it
   * under Deno: seen by hand, a directory moved out and back in was never watched again.
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
  /** Watches `abs` and below anew: new watches first, then the old ones closed. */
  const rewatch = async (abs: string): Promise<void> => {
    retire(abs);
    await walk(abs);
    closeRetired(abs);
  };

  /**
   * True when an event named as the watched directory itself is that directory moved or removed
   * (Node reports its own move under its own name, as if of a child `dir/dir`): nothing is at its path
   * now, or another inode. Its watch follows it to where it went, under a path no longer its own, so
   * it is closed (a new one watches it where it went). A real child of the same name is left alone,
   * and so is the root's watch (`checkRoot` follows the root, which may come back within its second).
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
        if (name === null) {
          overflow = true;
        } else if (!movedAway(abs, name.toString(), ino)) {
          const child = join(abs, name.toString());
          const path = shell.tree.pathOf(child);
          if (path === undefined) return;
          shell.dirty.add(path);
          if (type === "rename") {
            // Said at once, before the directory is looked at: it may be decided first.
            shell.arrived.add(path);
            void adopt(child);
          }
        }
        shell.wake();
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

  /**
   * A name appeared or vanished: a new directory gets its watches, a vanished one loses them. A
   * directory there now may have taken the place of one still watched under its path (moved away,
   * and another made or moved in): those watches follow the old one, so the path's are made anew.
   */
  const adopt = async (abs: string): Promise<void> => {
    const st = await lstat(abs).catch(() => undefined);
    if (st === undefined) return unwatch(abs);
    if (!st.isDirectory()) return;
    await rewatch(abs);
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
    if (now === undefined || !watching) unwatch(root);
    if (now === undefined) sayGone();
    else {
      shell.log(`${root} is ${rootIdentity === undefined ? "back" : "another directory now"}: comparing it with the store`);
      if (watching) void rewatch(root);
      overflow = true;
      shell.wake();
    }
    rootIdentity = now;
  };
  const rootChecker = setInterval(checkRoot, 1000);

  const ready = watching
    ? walk(shell.tree.root).catch((e) => {
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
      stopped = true;
      clearInterval(scanner);
      clearInterval(rootChecker);
      unwatch(shell.tree.root);
    },
  };
};
