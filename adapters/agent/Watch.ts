/**
 * Watch — capture for any application: Node's recursive `fs.watch` (measured complete on Linux
 * here) feeds changed paths into the agent's dirty set, where bursts on one path coalesce and the
 * last state is read when the path is decided. Because any watcher can miss events, a periodic
 * reconciling scan compares the tree's listing and stat data with what was last read. A watcher
 * error or an event without a name counts as an overflow: the affected tree is compared again.
 *
 * @example
 * const watch = Watch.start(shell);
 * watch.rescanRequested()   // true once after an overflow
 * watch.stop();
 *
 * @module
 */
import { watch as fsWatch, type FSWatcher } from "node:fs";
import type { Shell } from "./Shell.ts";

/** A running watch. */
export interface Running {
  /** True (once) when the watcher overflowed or failed and the tree must be compared. */
  readonly rescanRequested: () => boolean;
  readonly stop: () => void;
}

/**
 * Starts watching the shell's tree (with `fs.watch` when `watching`; the reconciling scan always).
 *
 * @category constructors
 */
export const start = (shell: Shell, watching: boolean): Running => {
  let overflow = false;
  let watcher: FSWatcher | undefined;
  let stopped = false;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;

  const open = () => {
    try {
      watcher = fsWatch(shell.tree.root, { recursive: true }, (_type, name) => {
        if (name === null) {
          overflow = true;
        } else {
          const path = shell.tree.pathOf(name.toString());
          if (path !== undefined) shell.dirty.add(path);
        }
        shell.wake();
      });
      watcher.on("error", (e) => {
        shell.log(`the watcher failed (${e.message}); comparing the tree again`);
        overflow = true;
        watcher?.close();
        if (!stopped) restartTimer = setTimeout(open, 1000);
      });
    } catch (e) {
      shell.log(`cannot watch ${shell.tree.root} (${(e as Error).message}); retrying, with periodic scans meanwhile`);
      if (!stopped) restartTimer = setTimeout(open, 5000);
    }
  };
  if (watching) open();

  // The reconciling scan: anything listed now or before whose stat data changed since it was read.
  let previous = new Set<string>();
  let scanning = false;
  const scan = async () => {
    if (scanning || shell.state._tag !== "backup") return;
    scanning = true;
    try {
      const now = await shell.tree.list();
      const current = new Set<string>(now);
      for (const p of previous) if (!current.has(p)) shell.dirty.add(p);
      for (const p of now) if (!(await shell.tree.isUnchanged(p))) shell.dirty.add(p);
      previous = current;
      if (shell.dirty.size > 0) shell.wake();
    } finally {
      scanning = false;
    }
  };
  const scanner = setInterval(() => void scan().catch(() => undefined), shell.options.scanIntervalMs ?? 60_000);

  return {
    rescanRequested: () => {
      const was = overflow;
      overflow = false;
      return was;
    },
    stop: () => {
      stopped = true;
      clearTimeout(restartTimer);
      clearInterval(scanner);
      watcher?.close();
    },
  };
};
