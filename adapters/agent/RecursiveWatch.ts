/**
 * RecursiveWatch — the watches of a tree under Deno: one `Deno.watchFs` over the whole tree, which
 * watches each new directory as it appears and reports every change by its full path. (Deno's
 * `node:fs` watch, used per directory, lost the watches of a directory moved out and back, and of a
 * moved directory once its old path's watch was closed; its recursive form reports deeper changes by
 * name only.) A directory moved in or made is watched by the time its event is read, but files made
 * in it before then have no event of their own: `Watch` lists it.
 *
 * @example
 * const runtime = RecursiveWatch.runtime();
 * if (runtime !== undefined) {
 *   const watches = RecursiveWatch.start(runtime, shell, report);
 *   await watches.watch(shell.tree.root);
 * }
 *
 * @module
 */
import type { Shell } from "./Shell.ts";
import type { Report, TreeWatches } from "./TreeWatches.ts";

/** One change as `Deno.watchFs` reports it. */
export interface FsEvent {
  readonly kind: string;
  readonly paths: ReadonlyArray<string>;
  readonly flag?: string;
}

/** A running `Deno.watchFs`. */
export interface FsWatcher extends AsyncIterable<FsEvent> {
  readonly close: () => void;
}

/** The part of the Deno runtime this module uses. */
export interface Runtime {
  readonly watchFs: (path: string, options: { readonly recursive: boolean }) => FsWatcher;
}

/**
 * The Deno runtime when running under Deno, else undefined.
 *
 * @category constructors
 */
export const runtime = (): Runtime | undefined => {
  const deno = (globalThis as { readonly Deno?: { readonly watchFs?: unknown } }).Deno;
  return typeof deno?.watchFs === "function" ? deno as Runtime : undefined;
};

/**
 * Whether an event may mean a name appeared, vanished or moved. Reads (`access`) are not changes:
 * the agent's own reads of the files report them.
 */
const structural = (kind: string): boolean | undefined => kind === "access" ? undefined : kind !== "modify";

/**
 * Starts a tree's recursive watch (none yet: `watch` of the root makes it; of a directory below, it
 * is watched already).
 *
 * @category constructors
 */
export const start = (deno: Runtime, shell: Shell, report: Report): TreeWatches => {
  const root = shell.tree.root;
  let stopped = false;
  let current: FsWatcher | undefined;
  /** Resolves once the watch closed last is let go (see `watchRoot`). */
  let released: Promise<void> = Promise.resolve();
  const close = (): void => {
    if (current === undefined) return;
    try {
      current.close();
    } catch {
      // Closed already: it ended on its own.
    }
    current = undefined;
    released = new Promise((resolve) => setTimeout(resolve, 10));
  };
  /** Reports a watch's events until it ends; one that ends or fails while it is still the root's watch lost events. */
  const follow = async (watcher: FsWatcher): Promise<void> => {
    let failure = "it ended";
    try {
      for await (const event of watcher) {
        if (event.flag === "rescan") report.lost("the watcher's queue overflowed: events may be lost, so the tree is compared with the store");
        const kind = structural(event.kind);
        if (kind !== undefined) for (const abs of event.paths) report.changed(abs, kind);
      }
    } catch (e) {
      failure = (e as Error).message;
    }
    if (watcher !== current) return;
    report.lost(`the watch of ${root} stopped (${failure}): the tree is compared with the store, and watched again in a second`);
    close();
    const again = setTimeout(() => {
      if (current === undefined) void watchRoot();
    }, 1000);
    (again as { unref?: () => void }).unref?.();
  };
  /**
   * The root's watch, made anew (one at a time). A watch closed is let go only once the event loop
   * comes round, and a new one on the same path made before then is let go with it: seen by hand, a
   * root removed and made again, its old watch closed and a new one made at once, reported nothing.
   */
  let remaking: Promise<void> = Promise.resolve();
  const watchRoot = (): Promise<void> =>
    remaking = remaking.then(async () => {
      close();
      await released;
      if (stopped) return;
      try {
        current = deno.watchFs(root, { recursive: true });
        void follow(current);
      } catch (e) {
        report.lost(`cannot watch ${root} (${(e as Error).message}); changes there are found by the periodic scan`);
      }
    });
  return {
    watch: (abs) => abs === root || current === undefined ? watchRoot() : Promise.resolve(),
    unwatch: (abs) => {
      if (abs === root) close();
    },
    stop: () => {
      stopped = true;
      close();
    },
  };
};
