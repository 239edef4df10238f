/**
 * TreeWatches — the port through which a tree's changes are watched, one implementation per runtime:
 * `DirectoryWatches` (Node: one `fs.watch` per directory) and `RecursiveWatch` (Deno: one
 * `Deno.watchFs` over the tree). `Watch` drives either the same way.
 *
 * @example
 * const watches: TreeWatches = DirectoryWatches.start(shell, report);
 * await watches.watch(root);   // every directory below is watched
 * watches.stop();
 *
 * @module
 */

/** Where a tree's watches report. */
export interface Report {
  /** A name in the tree changed; `structural` when it may have appeared, vanished or moved. */
  readonly changed: (abs: string, structural: boolean) => void;
  /** Events may have been lost (said with why when there is more to say): the tree must be compared. */
  readonly lost: (why?: string) => void;
}

/** The watches of a tree. */
export interface TreeWatches {
  /**
   * Watches `abs` and everything below it anew (a directory that appeared, or the root come back);
   * resolves once every directory there is watched.
   */
  readonly watch: (abs: string) => Promise<void>;
  /** Stops watching `abs` and everything below it (it vanished). */
  readonly unwatch: (abs: string) => void;
  /** Stops every watch, for good. */
  readonly stop: () => void;
}
