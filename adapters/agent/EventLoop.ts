/**
 * EventLoop — how the agent's long synchronous stretches (listing, checking and comparing a tree)
 * let the event loop read sockets and run timers. `setImmediate` runs after the loop's poll for I/O,
 * so a reply waiting in a socket is read; a zero-delay `setTimeout` would do the same but waits a
 * whole millisecond (its least delay) even when nothing is waiting: on a tree of 100,000 files,
 * dozens of such yields added tens of milliseconds of idle time to a comparison.
 *
 * @example
 * for (let n = 0; n < items.length; n++) {
 *   if (n % 4096 === 4095) await EventLoop.yieldTurn();
 *   check(items[n]);
 * }
 *
 * @module
 */

/** Resolves once the event loop has had a turn (I/O callbacks included). */
export const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
