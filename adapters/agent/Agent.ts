/**
 * Agent — the agent runtime: protects one directory as one source. It runs the core's event
 * processor for real: on start (or when the store was lost) it flags the items that may differ and
 * walks them behind the cursor, asking the store for range fingerprints first and metadata only where
 * ranges differ; live changes from the watcher are decided as they come (forwarded behind the
 * cursor, absorbed ahead of it), and live changes go before resync work. Every event is spooled
 * before it is sent; acknowledgements drop it from the spool. A lost store means blackout,
 * reconnection with capped, jittered exponential back-off, and a resync on return.
 *
 * @example
 * const agent = await Agent.start({ root: "/srv/data", source, store: "127.0.0.1:7420", secret: null, spoolDir });
 * // … later
 * await agent.stop();
 *
 * @module
 */
import { Effect, Schedule } from "effect";
import type { SourceId } from "../../core/Codecs.ts";
import type * as Event from "../../core/Event.ts";
import * as Processor from "../../core/Processor.ts";
import * as Protocol from "../../core/Protocol.ts";
import { isSyncing } from "../../core/ProcessorState.ts";
import * as Step from "../../core/ProcessorStep.ts";
import * as SortedMap from "../../core/SortedMap.ts";
import * as Client from "../wire/Client.ts";
import { yieldTurn } from "./EventLoop.ts";
import * as DirtyQueue from "./DirtyQueue.ts";
import * as LocalTree from "./LocalTree.ts";
import * as Resync from "./Resync.ts";
import * as Spool from "./Spool.ts";
import * as StatCache from "./StatCache.ts";
import { ClientFailure, decide, flush, type Shell } from "./Shell.ts";
import * as StoreView from "./StoreView.ts";
import * as Watch from "./Watch.ts";

/** How to run an agent. */
export interface Options {
  readonly root: string;
  readonly source: SourceId;
  readonly store: string;
  readonly secret: Uint8Array | null;
  readonly tls?: Client.TlsOptions | undefined;
  readonly spoolDir: string;
  /** Human-readable lines: state changes, blackouts, warnings. */
  readonly log?: (line: string) => void;
  readonly onProgress?: ((p: Progress) => void) | undefined;
  /** Most events sent and not yet acknowledged (default 1024). */
  readonly windowEvents?: number;
  readonly heartbeatMs?: number;
  readonly scanIntervalMs?: number;
  /** Longest wait between tries of a store that is unreachable or failed under the agent (default 10,000). */
  readonly maxBackoffMs?: number;
  /** Called with the events the store has just acknowledged (for latency measurements and progress). */
  readonly onAcknowledged?: ((events: ReadonlyArray<Event.Event>) => void) | undefined;
  /** Watch the tree with `fs.watch` (default true); off when a program reports its changes through `Capture`. */
  readonly watch?: boolean;
}

/** Where the agent is, for progress displays and `status`. */
export interface Progress {
  readonly state: Event.ProcessorStateName;
  readonly connected: boolean;
  readonly itemsDone: number;
  readonly itemsTotal: number;
  readonly bytesSent: number;
  /** Items per second since the upload or resync began, and the estimated seconds left (null when unknown). */
  readonly itemsPerSecond: number;
  readonly etaSeconds: number | null;
  readonly pending: number;
  readonly unacknowledged: number;
}

/** A running agent. */
export interface Running {
  /** Finishes the current step, waits briefly for acknowledgements, persists the spool and stops. */
  readonly stop: () => Promise<void>;
  /** Resolves when the agent ends by itself: a final refusal (wrong secret, source taken). */
  readonly failed: Promise<string>;
  readonly progress: () => Progress;
  /** Marks an application-consistent checkpoint after the changes seen so far; resolves with its sequence number. */
  readonly checkpoint: (label: string) => Promise<number>;
  /** Reports changed paths (relative to the root), with the byte ranges written when known. */
  readonly notify: (path: string, ranges?: ReadonlyArray<Event.ByteRange>) => void;
  /** Resolves once every change reported so far is decided and acknowledged by the store. */
  readonly flush: () => Promise<void>;
}

const finalCodes = new Set(["auth", "busy", "version", "tls"]);

/** The first wait before trying again a store that failed under the agent. */
const firstStoreRetryMs = 1000;

/**
 * A stat cache at least this large (about 30,000 files) has the tree read by a worker thread while
 * the agent starts: the worker costs ~100 ms to start and warm up, more than it saves on a small tree.
 */
const workerScanCacheBytes = 8 * 1024 * 1024;

/** Longest the agent's loop runs turns without letting the event loop read sockets and timers. */
const yieldEveryMs = 4;

const backoff = (maxMs: number) =>
  Schedule.exponential("200 millis", 2).pipe(Schedule.union(Schedule.spaced(`${maxMs} millis`)), Schedule.jittered);

/**
 * Starts protecting `root`.
 *
 * @category constructors
 */
export const start = async (options: Options): Promise<Running> => {
  const log = options.log ?? (() => {});
  const spool = await Spool.open(options.spoolDir, { source: options.source, root: options.root }, log);
  if (spool.damaged) log("the local spool was damaged; it was discarded and the tree will be compared in full");
  const shell: Shell = {
    options,
    tree: LocalTree.make(options.root, {
      exclude: [options.spoolDir],
      onUnreadable: (u) => log(`cannot read ${u.path}: ${u.reason}; keeping the stored version`),
      // A file's other names changed with it: they are read as changed too.
      onStaleLinks: (paths) => {
        for (const path of paths) shell.dirty.add(path);
        shell.wake();
      },
    }),
    spool,
    view: StoreView.make(),
    dirty: DirtyQueue.make(),
    arrived: new Set(),
    departing: DirtyQueue.make<number>(),
    departed: new Set(),
    ranges: new Map(),
    log,
    state: Processor.initial,
    client: undefined,
    needsCompare: true,
    listing: [],
    prints: [],
    outbox: [],
    sending: Promise.resolve(),
    sendingNow: false,
    outboxBytes: 0,
    outboxSince: 0,
    previous: new Map(),
    prefetched: new Map(),
    fingerprints: new Map(),
    expected: undefined,
    verified: undefined,
    itemsTotal: 0,
    syncStartedAt: Date.now(),
    itemsDone: 0,
    goneSearched: 0,
    bytesSent: 0,
    wake: () => {},
  };
  const watch = Watch.start(shell, options.watch ?? true);
  // The comparison that starts once connected lists the whole tree, but only once every directory
  // is watched (a change between the listing and the watch would be missed). For a large tree
  // (judged by its stat cache) a worker reads it meanwhile; for a small one its start-up would not pay.
  const watched = watch.ready.then(() => {
    if (spool.cacheBytes() >= workerScanCacheBytes) shell.tree.prescan();
  });
  const loadCache = async (): Promise<void> => {
    shell.tree.remember(StatCache.decode(await spool.readCache()));
    // Large files changed since they were read are checked for kept chunks by worker threads meanwhile.
    shell.tree.placeChanged();
  };
  let savedAt = shell.tree.changes();
  const saveCache = async (): Promise<void> => {
    const changes = shell.tree.changes();
    if (changes === savedAt) return;
    await spool.writeCache(StatCache.encode(shell.tree.cached())).then(() => (savedAt = changes), (e) => log(`cannot save the stat cache: ${(e as Error).message}`));
  };
  const cacheSaver = setInterval(() => void saveCache(), 60_000);
  let cacheSoon: ReturnType<typeof setTimeout> | undefined;
  const abort = new AbortController();
  let stopping = false;
  let everConnected = false;
  let fail: (reason: string) => void = () => {};
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  let storeRetryMs = firstStoreRetryMs;
  /** Appends refused since the last acknowledgement. */
  let refusedAppends = 0;
  const failed = new Promise<string>((resolve) => (fail = resolve));
  const checkpoints: Array<{ readonly label: string; readonly done: (seq: number) => void; readonly error: (e: Error) => void }> = [];

  // A wake that comes while the loop is busy is kept, so the next sleep returns at once (no lost wake-ups).
  let woken = false;
  let sleeper: (() => void) | undefined;
  shell.wake = () => {
    woken = true;
    sleeper?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) {
        woken = false;
        return resolve();
      }
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        sleeper = undefined;
        woken = false;
        resolve();
      };
      sleeper = done;
    });

  /** Sends what is decided, then waits for work (or `ms`). */
  const rest = async (ms: number): Promise<void> => {
    await flush(shell);
    if (shell.dirty.size === 0 && checkpoints.length === 0) await sleep(ms);
  };

  const rates = () => {
    const seconds = (Date.now() - shell.syncStartedAt) / 1000;
    const itemsPerSecond = seconds > 0 ? shell.itemsDone / seconds : 0;
    const left = shell.itemsTotal - shell.itemsDone;
    return { itemsPerSecond, etaSeconds: isSyncing(shell.state) && itemsPerSecond > 0 ? left / itemsPerSecond : null };
  };

  const progress = (): Progress => ({
    state: shell.state._tag,
    connected: shell.client !== undefined && !shell.client.isClosed(),
    itemsDone: shell.itemsDone,
    itemsTotal: shell.itemsTotal,
    bytesSent: shell.bytesSent,
    ...rates(),
    pending: shell.dirty.size + shell.departing.size + SortedMap.size(shell.state.sync.flags),
    unacknowledged: spool.pending().length,
  });

  /** Connects (retrying with back-off until connected or refused for good), from the agent's state when called. */
  const attempt = () => {
    let warned = false;
    return Client.connect({
      address: options.store,
      role: "agent",
      source: options.source,
      writer: Spool.writerOf(options.spoolDir, options.source),
      secret: options.secret,
      tls: options.tls,
      lastSeq: shell.state.nextSeq - 1,
      onAck: (seq) => {
        storeRetryMs = firstStoreRetryMs;
        refusedAppends = 0;
        if (options.onAcknowledged !== undefined) options.onAcknowledged(spool.pending().filter((e) => e.seq <= seq));
        void spool.acked(seq).then(() => shell.wake());
      },
      onCheckpointRequested: (label) => void queueCheckpoint(label).catch(() => undefined),
      onClose: () => shell.wake(),
    }).pipe(
      Effect.tapError((e) =>
        Effect.sync(() => {
          if (!warned && e._tag !== "Refused") log(`${Client.describeError(e)}; retrying (blackout)`);
          warned = true;
        })
      ),
      Effect.retry({ schedule: backoff(maxBackoffMs), while: (e) => e._tag !== "Refused" }),
    );
  };
  /** The connection under way, if one was started ahead of the turn that needs it (at start, while the stat cache is read). */
  let connecting: ReturnType<typeof startConnecting> | undefined;
  const startConnecting = () => Effect.runPromise(Effect.either(attempt()), { signal: abort.signal });

  const connect = async (): Promise<void> => {
    const client = await (connecting ?? startConnecting());
    connecting = undefined;
    if (client._tag === "Left") throw new ClientFailure(client.left);
    shell.client = client.right;
    everConnected = true;
    shell.outbox = []; // the welcome replays everything the spool holds
    shell.outboxBytes = 0;
    shell.previous = new Map();
    shell.prefetched = new Map();
    log(`connected to the store at ${options.store}`);
    await Resync.welcome(shell, client.right.welcome);
  };

  const lose = async (reason: string): Promise<void> => {
    shell.client?.isClosed() === false && (await Effect.runPromise(shell.client.close(reason)));
    shell.client = undefined;
    if (shell.state._tag !== "idle" && shell.state._tag !== "blackout") {
      log(`lost the store: ${reason}`);
      await decide(shell, { _tag: "LoseStore", at: Date.now(), reason });
    }
  };

  /**
   * The protected directory is gone mid-comparison: the agent lets go of the store (whose last state
   * stands: a missing directory is not every item deleted) and waits for it, then compares it anew.
   */
  const awaitRoot = async (): Promise<void> => {
    await lose("the protected directory is gone");
    shell.needsCompare = true;
    while (!stopping && !shell.tree.present()) {
      watch.checkRoot();
      await sleep(1000);
    }
    watch.checkRoot();
  };

  /**
   * The store failed under this agent (its disk full or failing): the events stay in the spool, and
   * the store is tried again after a wait that doubles up to the back-off's cap (an acknowledgement
   * resets it), not at once and for ever.
   */
  const awaitStore = async (reason: string): Promise<void> => {
    log(`${reason}; the events stay in the spool, trying again in ${storeRetryMs / 1000} s`);
    await lose(reason);
    await backOff();
  };

  /** Waits before the store is tried again: twice as long each time, up to the back-off's cap (an acknowledgement resets it). */
  const backOff = async (): Promise<void> => {
    const until = Date.now() + storeRetryMs;
    storeRetryMs = Math.min(2 * storeRetryMs, maxBackoffMs);
    while (!stopping && Date.now() < until) await sleep(until - Date.now());
  };

  /**
   * The store refused an append: the spool is dropped and the tree compared again. The first refusal
   * since an acknowledgement may be a race (a stale base), and is compared again at once; one that
   * comes back (an event the store will not take) after a wait that doubles, not in a tight loop.
   */
  const refusedAppend = async (reason: string, closed: string): Promise<void> => {
    const wait = refusedAppends++ > 0;
    log(`the store refused an append (${reason}); comparing everything again${wait ? ` in ${storeRetryMs / 1000} s` : ""}`);
    await Resync.reset(shell);
    await lose(closed);
    if (wait) await backOff();
  };

  const handle = async (e: unknown): Promise<void> => {
    if (e instanceof LocalTree.RootGone) return awaitRoot();
    if (!(e instanceof ClientFailure)) throw e;
    const error = e.error;
    if (error._tag === "Refused" && error.code === Protocol.storeFailed) return awaitStore(error.reason);
    // Once this agent has been connected, "busy" is most likely its own old connection, not yet
    // noticed closed by the store: that is retried. A fresh agent meeting "busy" stops.
    const retryBusy = error._tag === "Refused" && error.code === "busy" && everConnected;
    if (retryBusy) {
      log(`${Client.describeError(error)}; retrying`);
      await sleep(2000);
    }
    if (error._tag === "Refused" && finalCodes.has(error.code) && !retryBusy) {
      stopping = true;
      return fail(Client.describeError(error));
    }
    if (error._tag === "Refused" && error.code === "append") return refusedAppend(error.reason, e.message);
    await lose(e.message);
  };

  const queueCheckpoint = (label: string): Promise<number> =>
    new Promise((done, error) => {
      checkpoints.push({ label, done, error });
      shell.wake();
    });

  const markCheckpoint = async (): Promise<void> => {
    // Taken off the queue once decided: a store lost before then leaves it to be marked after the resync.
    const next = checkpoints[0]!;
    // Changes the watcher is about to report belong before the checkpoint.
    await new Promise((r) => setTimeout(r, 250));
    while (shell.dirty.size > 0) await captureNext();
    const events = await decide(shell, { _tag: "MarkCheckpoint", at: Date.now(), label: next.label });
    checkpoints.shift();
    next.done(events[0]!.seq);
    await flush(shell);
  };

  /**
   * Decides the next live change. One whose decision fails (the store lost while it was asked about
   * the path) goes back to the dirty set: the resync after the blackout decides it with the others.
   */
  const captureNext = async (): Promise<void> => {
    const path = Resync.takeDirty(shell);
    try {
      await Resync.capture(shell, path);
    } catch (e) {
      shell.dirty.add(path);
      throw e;
    }
  };

  let liveBudget = 16;
  const turn = async (): Promise<void> => {
    if (shell.client === undefined || shell.client.isClosed()) {
      // A refusal that came while no call waited (an append refused after its batch was sent) is
      // handled as a refused call is: replaying the same spool would only be refused again.
      const why = shell.client?.closedWith();
      if (why?._tag === "Refused") throw new ClientFailure(why);
      if (shell.client !== undefined) await lose("connection closed");
      return connect();
    }
    if (spool.pending().length >= (options.windowEvents ?? 1024)) {
      await flush(shell);
      return sleep(1000); // an acknowledgement wakes it
    }
    // A checkpoint names a consistent state: it waits until an upload or resync has finished.
    if (checkpoints.length > 0 && shell.state._tag === "backup") return markCheckpoint();
    if (shell.dirty.size > 0 && (liveBudget-- > 0 || !isSyncing(shell.state))) return captureNext();
    liveBudget = 16;
    if (shell.state._tag === "backup" && watch.rescanRequested()) return Resync.begin(shell, "watcher-overflow", "compare");
    const step = Step.next(shell.state);
    if (step._tag === "Nothing") return rest(1000);
    await Resync.step(shell, step);
    // The stat cache is worth keeping as soon as an upload or resync has read the tree: saved a
    // moment later, so the acknowledgements of its last events do not wait behind it.
    if (step._tag === "Finish") {
      clearTimeout(cacheSoon);
      cacheSoon = setTimeout(() => void saveCache(), 1000);
    }
  };

  // The store's handshake goes on while the stat cache is read: both are needed before the comparison.
  connecting = startConnecting();
  await loadCache();
  await watched;
  // With the cache read, this thread reads part of a large tree's scan instead of waiting for it.
  void shell.tree.helpPrescan();

  const loop = (async () => {
    // Turns that read from files synchronously never yield to the event loop on their own: every few
    // milliseconds the loop lets it run, so the store's replies (signatures a batch waits for,
    // acknowledgements) are read while a long comparison goes on, not after it.
    let yielded = performance.now();
    while (!stopping) {
      if (performance.now() - yielded > yieldEveryMs) {
        await yieldTurn();
        yielded = performance.now();
      }
      try {
        await turn();
      } catch (e) {
        if (stopping) break;
        await handle(e).catch((inner) => {
          stopping = true;
          fail(`the agent stopped: ${(inner as Error).message}`);
        });
      }
    }
  })();

  const tickMs = Math.min(1000, options.heartbeatMs ?? 5000);
  let lastTick = performance.now();
  const heartbeat = setInterval(() => {
    // After a long synchronous stretch (hashing a huge file) the store's pongs wait unread in the
    // socket: a late tick says this process was busy, not that the store is gone.
    const late = performance.now() - lastTick > 2 * tickMs;
    lastTick = performance.now();
    const client = shell.client;
    if (client === undefined || client.isClosed()) return;
    if (!late && performance.now() - client.lastHeard() > 3 * (options.heartbeatMs ?? 5000)) {
      void Effect.runPromise(client.close("no heartbeat from the store"));
      return;
    }
    const p = progress();
    const report = { state: p.state, trust: shell.state.sync.trust, pending: p.pending, unacknowledged: p.unacknowledged, itemsDone: p.itemsDone, itemsTotal: p.itemsTotal };
    void Effect.runPromise(Effect.either(client.send({ _tag: "Ping", at: Date.now() }).pipe(Effect.zipRight(client.send({ _tag: "Report", report })))));
    options.onProgress?.(p);
  }, tickMs);

  const stop = async (): Promise<void> => {
    if (!stopping) {
      stopping = true;
      abort.abort();
      shell.wake();
    }
    await loop;
    await flush(shell);
    clearInterval(heartbeat);
    clearInterval(cacheSaver);
    clearTimeout(cacheSoon);
    watch.stop();
    await saveCache();
    for (const c of checkpoints.splice(0)) c.error(new Error("the agent is stopping"));
    const deadline = Date.now() + 5000;
    while (spool.pending().length > 0 && shell.client?.isClosed() === false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (shell.client !== undefined) await Effect.runPromise(shell.client.close("agent stopping"));
    await spool.close();
  };

  const notify = (name: string, ranges?: ReadonlyArray<Event.ByteRange>): void => {
    const path = shell.tree.pathOf(name);
    if (path === undefined) return;
    if (ranges === undefined || (shell.dirty.has(path) && !shell.ranges.has(path))) shell.ranges.delete(path);
    else shell.ranges.set(path, [...(shell.ranges.get(path) ?? []), ...ranges]);
    shell.dirty.add(path);
    shell.wake();
  };

  const settled = async (): Promise<void> => {
    while (!stopping && (shell.dirty.size > 0 || spool.pending().length > 0 || isSyncing(shell.state) || shell.state._tag === "idle")) {
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  return { stop, failed, progress, checkpoint: queueCheckpoint, notify, flush: settled };
};
