/**
 * Shell — the agent's mutable state around the pure processor, and the one way events leave it:
 * `decide` runs the decider, keeps the agent's view of the store in step, spools the events and
 * sends them.
 *
 * @example
 * const events = await Shell.decide(shell, { _tag: "CaptureChange", at: Date.now(), path, local, known });
 *
 * @module
 */
import { Effect } from "effect";
import * as E from "fp-ts/lib/Either.js";
import * as Event from "../../core/Event.ts";
import type * as Fingerprint from "../../core/Fingerprint.ts";
import { compare, type ItemPath } from "../../core/ItemPath.ts";
import type { Manifest } from "../../core/Manifest.ts";
import * as Processor from "../../core/Processor.ts";
import type { ProcessorState } from "../../core/ProcessorState.ts";
import { sha256 } from "../Sha256.ts";
import * as Client from "../wire/Client.ts";
import type { Options } from "./Agent.ts";
import type * as DirtyQueue from "./DirtyQueue.ts";
import type { Expectation } from "./Expectation.ts";
import type * as LocalTree from "./LocalTree.ts";
import type { Ahead } from "./RangeSearch.ts";
import * as Outbound from "./Outbound.ts";
import type * as Spool from "./Spool.ts";
import type * as StoreView from "./StoreView.ts";

/** The agent's mutable shell around the pure processor. */
export interface Shell {
  readonly options: Options;
  readonly tree: LocalTree.LocalTree;
  readonly spool: Spool.Spool;
  readonly view: StoreView.StoreView;
  /** Paths with live changes not yet decided, in the order seen. */
  readonly dirty: DirtyQueue.DirtyQueue;
  /**
   * Paths the watcher saw appear or vanish (made, removed, moved) and not decided yet: when one is a
   * directory that replaced another, the store's items below it that are not here are checked too
   * (`Resync.capture`).
   */
  readonly arrived: Set<string>;
  /**
   * Paths found gone (or holding another file) while other changes waited, by when they began to
   * wait (epoch ms), in that order: decided after the rest of their burst, so a file or directory
   * that moved is found at its new path while the store still holds it at the old one, and goes as
   * a move (`Resync.capture`).
   */
  readonly departing: DirtyQueue.DirtyQueue<number>;
  /** Paths that waited and are queued again: decided at once when next taken. */
  readonly departed: Set<string>;
  /** Byte ranges an application reported for dirty paths (the capture API), merged until decided. */
  readonly ranges: Map<string, Array<Event.ByteRange>>;
  readonly log: (line: string) => void;
  state: ProcessorState;
  client: Client.Client | undefined;
  needsCompare: boolean;
  listing: ReadonlyArray<ItemPath>;
  /**
   * Fingerprints of `listing`'s items by index, learnt as the comparison needs them (`null`: gone
   * or unreadable; missing: not learnt yet).
   */
  prints: Array<Fingerprint.Fingerprint | null | undefined>;
  /**
   * Store fingerprints of ranges not yet compared, by the range's first key (the descent), and
   * whether most of the range's siblings differed (changes are dense there).
   */
  fingerprints: Map<string, { readonly lt: string | null; readonly remote: Fingerprint.Fingerprint; readonly dense: boolean }>;
  /** What the comparison expects the store to hold, from the stat cache (`Expectation`); undefined when the cache is empty. */
  expected: Expectation | undefined;
  /** Directories new or gone that this comparison looked for elsewhere (`Resync`: moved while nobody watched). */
  goneSearched: number;
  /** A range whose store fingerprint is the expected one: only its items that differ from the remembered ones are compared. */
  verified: { readonly gte: string; readonly lt: string | null } | undefined;
  /** Ranges' store metadata (small ones) or splits (large ones) fetched ahead of their turn, by the range's first key. */
  prefetched: Map<string, Ahead>;
  /** Events decided and spooled but not yet sent: sent together, before the agent rests and before any query whose answer depends on them. */
  outbox: Array<Event.Event>;
  /** The send of the last batch taken from the outbox (resolved once sent, or failed). */
  sending: Promise<void>;
  /** Whether that send is still under way. */
  sendingNow: boolean;
  /** Chunk bytes the outbox carries. */
  outboxBytes: number;
  /** When the oldest event in the outbox was put there (epoch ms). */
  outboxSince: number;
  /** The store's manifest of the version each outbox event replaces, by sequence number (for deltas). */
  previous: Map<number, Manifest>;
  itemsTotal: number;
  /** When the current upload or resync began (epoch ms), for rates and estimates. */
  syncStartedAt: number;
  itemsDone: number;
  bytesSent: number;
  wake: () => void;
}

/** A client call that failed; carries the client's error. */
export class ClientFailure extends Error {
  readonly error: Client.ClientError;
  constructor(error: Client.ClientError) {
    super(Client.describeError(error));
    this.error = error;
  }
}

/** Runs a client effect as a promise that rejects with `ClientFailure`. */
export const call = async <A>(effect: Effect.Effect<A, Client.ClientError>): Promise<A> => {
  const out = await Effect.runPromise(Effect.either(effect));
  if (out._tag === "Left") throw new ClientFailure(out.left);
  return out.right;
};

/** The connected client, or a failure saying the store is away. */
export const connected = (shell: Shell): Client.Client => {
  if (shell.client === undefined || shell.client.isClosed()) throw new ClientFailure({ _tag: "Disconnected", reason: "not connected" });
  return shell.client;
};

/** Chunk bytes one message may carry; larger content sends its chunks ahead in `PutChunks` messages. */
const messageChunkBytes = 8 * 1024 * 1024;

const chunkBytes = (chunks: ReadonlyArray<Outbound.SentChunk>): number => chunks.reduce((n, c) => n + Outbound.sentBytes(c), 0);

const sentChunksOf = (e: Outbound.Outgoing): ReadonlyArray<Outbound.SentChunk> => ("chunks" in e ? e.chunks : []);

/** Splits chunks into batches of at most `messageChunkBytes` (a single larger chunk goes alone). */
const batches = (chunks: ReadonlyArray<Event.ChunkData>): ReadonlyArray<ReadonlyArray<Event.ChunkData>> => {
  const out: Array<Array<Event.ChunkData>> = [[]];
  let size = 0;
  for (const c of chunks) {
    if (size + c.bytes.length > messageChunkBytes && out[out.length - 1]!.length > 0) {
      out.push([]);
      size = 0;
    }
    out[out.length - 1]!.push(c);
    size += c.bytes.length;
  }
  return out;
};

/**
 * Sends events in order as `Append` messages of bounded size; an event whose chunks are too large
 * for one message sends their bytes ahead in `PutChunks` messages and then goes with its deltas only.
 */
export const transmit = (client: Client.Client, events: ReadonlyArray<Outbound.Outgoing>): Effect.Effect<void, Client.ClientError> =>
  Effect.gen(function* () {
    let group: Array<Outbound.Outgoing> = [];
    let size = 0;
    for (const e of events) {
      const bytes = chunkBytes(sentChunksOf(e));
      if (group.length > 0 && (size + bytes > messageChunkBytes || bytes > messageChunkBytes)) {
        yield* client.send({ _tag: "Append", events: group });
        group = [];
        size = 0;
      }
      if (bytes > messageChunkBytes) {
        const whole = sentChunksOf(e).filter((c): c is Event.ChunkData => "bytes" in c);
        for (const batch of batches(whole)) yield* client.send({ _tag: "PutChunks", chunks: [...batch] });
        group.push({ ...e, chunks: sentChunksOf(e).filter((c) => !("bytes" in c)) } as Outbound.Outgoing);
      } else {
        group.push(e);
        size += bytes;
      }
    }
    if (group.length > 0) yield* client.send({ _tag: "Append", events: group });
  });

/**
 * Decides a command, then spools its stream events (without chunk bytes the store holds) and queues
 * them in the outbox, sent in batches by `flush`.
 */
export const decide = async (shell: Shell, command: Processor.Command): Promise<ReadonlyArray<Event.Event>> => {
  const out = Processor.run(command, shell.state);
  if (E.isLeft(out)) throw new Error(`processor refused ${command._tag}: ${Processor.describeError(out.left)}`);
  shell.state = out.right.state;
  const events = Processor.streamed(out.right.events).map((e) => {
    const elided = shell.view.elide(e);
    const before = Event.isContentEvent(elided) && elided.base !== null ? shell.view.get(elided.path) : undefined;
    if (before != null && before.manifest.length > 0) shell.previous.set(e.seq, before.manifest);
    shell.view.apply(e);
    return elided;
  });
  for (const e of events) if (e._tag === "AgentStateChanged") shell.log(`state ${e.from} → ${e.to} (${e.reason})`);
  const reached = events.filter(reachesOtherRanges).flatMap((e) => (e._tag === "ItemRenamed" ? [e.from, e.path] : [e.path]));
  if (reached.length > 0) forgetAnswersReaching(shell, reached);
  if (events.length === 0) return events;
  shell.spool.add(events);
  if (shell.outbox.length === 0) shell.outboxSince = Date.now();
  shell.outbox.push(...events);
  shell.outboxBytes += events.reduce((n, e) => n + chunkBytes(Event.chunksOf(e)), 0);
  const full = shell.outbox.length >= outboxEvents || shell.outboxBytes >= messageChunkBytes;
  // Past its wait a batch with content to carry goes at once, unless one is still being sent: then it
  // goes after that one, and the comparison is not held up waiting (a full outbox does wait: memory is
  // bounded). A batch light in content waits for the comparison's end: sent apart, its own frames and
  // acknowledgement would cost more than it gains.
  const due = shell.outboxBytes >= earlyBatchBytes && Date.now() - shell.outboxSince >= outboxWaitMs;
  if (full || (due && !shell.sendingNow)) await dispatch(shell);
  return events;
};

/**
 * Drops the answers fetched ahead, and the store fingerprints known, of ranges that hold one of these
 * keys or anything under it: the store's side of them changed after they were asked for.
 */
const forgetAnswersReaching = (shell: Shell, keys: ReadonlyArray<string>): void => {
  // [key, key + "0") holds the key and its subtree (and a few siblings, such as "key-b": dropped too).
  const reaches = (gte: string, lt: string | null): boolean => keys.some((k) => compare(gte, `${k}0`) < 0 && (lt === null || compare(k, lt) < 0));
  for (const [from, ahead] of shell.prefetched) if (reaches(from, ahead.lt)) shell.prefetched.delete(from);
  for (const [from, known] of shell.fingerprints) if (reaches(from, known.lt)) shell.fingerprints.delete(from);
  if (shell.verified !== undefined && reaches(shell.verified.gte, shell.verified.lt)) shell.verified = undefined;
};

/** An event that changes items outside its own path's range: a directory's subtree deleted or moved, or a file moved. */
export const reachesOtherRanges = (e: Event.Event): e is Extract<Event.Event, { _tag: "ItemRenamed" | "ItemDeleted" }> =>
  e._tag === "ItemRenamed" || (e._tag === "ItemDeleted" && e.base?.type === "dir");

/** Most events held in the outbox before it is sent. */
const outboxEvents = 64;
/**
 * Longest an event waits in the outbox for others to join it: a slow comparison (large files read
 * one by one) then sends what it has decided, and the store appends it meanwhile instead of after.
 */
const outboxWaitMs = 20;
/** Chunk bytes an outbox needs before it is sent for having waited. */
const earlyBatchBytes = 64 * 1024;

/**
 * Sends the outbox and waits until it is sent. A send that fails leaves the events in the spool, for
 * the replay on reconnect (which is why a reconnect empties the outbox).
 */
export const flush = async (shell: Shell): Promise<void> => {
  await dispatch(shell);
  await shell.sending;
};

/**
 * Starts sending the outbox, after the send before it (one batch in flight, so a fast comparison
 * cannot pile up batches in memory), without waiting for it: preparing a batch can wait on the
 * store (signatures for deltas), and the comparison goes on meanwhile.
 */
const dispatch = async (shell: Shell): Promise<void> => {
  await shell.sending;
  if (shell.outbox.length === 0) return;
  const events = shell.outbox;
  const previous = shell.previous;
  shell.outbox = [];
  shell.outboxBytes = 0;
  shell.previous = new Map();
  await shell.spool.write();
  const client = shell.client;
  if (client === undefined || client.isClosed()) return;
  const sent = Outbound.prepare(client, events, previous, sha256, shell.tree.seenElsewhere).pipe(
    Effect.tap((outgoing) => Effect.sync(() => (shell.bytesSent += outgoing.reduce((n, e) => n + chunkBytes(sentChunksOf(e)), 0)))),
    Effect.flatMap((outgoing) => transmit(client, outgoing)),
  );
  shell.sendingNow = true;
  shell.sending = call(sent).catch(() => undefined).finally(() => (shell.sendingNow = false));
};

