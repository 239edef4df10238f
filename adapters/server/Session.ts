/**
 * Session — one client connection to the store server, as an Effect: hello, challenge and proof
 * within a time limit, then the client's messages in order. Appends are applied and acknowledged
 * once durable; queries are answered after every append sent before them on the same connection
 * (pings, and `Signatures` and `Held` when the append cannot change their answer, go beside an
 * append being applied: a long append no longer holds up the heartbeat). Any protocol fault ends
 * only this session: the client gets `Refused` with the reason, and the store is untouched.
 *
 * @example
 * Effect.runFork(Session.run(config, registry, Link.fromSocket(socket)));
 *
 * @module
 */
import { Deferred, Effect, Fiber } from "effect";
import * as E from "fp-ts/lib/Either.js";
import type { SourceId } from "../../core/Codecs.ts";
import * as Protocol from "../../core/Protocol.ts";
import * as StoreError from "../../store/StoreError.ts";
import type { Store } from "../../store/Store.ts";
import * as Auth from "../wire/Auth.ts";
import type { Link, LinkClosed } from "../wire/Link.ts";
import * as Deltas from "./Deltas.ts";
import * as Queries from "./Queries.ts";
import * as RecentChunks from "./RecentChunks.ts";

/** What every session of a server shares. */
export interface Config {
  readonly store: Store;
  readonly secret: Uint8Array | null;
  readonly helloTimeoutMs: number;
  /** A session that sends nothing for this long is closed (agents ping every second). */
  readonly idleTimeoutMs: number;
  readonly checkpointTimeoutMs: number;
  readonly log: (line: string) => void;
}

/** A connected agent, as other sessions see it. */
export interface ConnectedAgent {
  readonly link: Link;
  info: Queries.AgentInfo;
  readonly waiters: Array<{ readonly label: string; readonly done: Deferred.Deferred<number> }>;
  /** The agent's lasting identity (`Hello.writer`), when it gave one. */
  readonly writer: string | undefined;
  /** Done once its session has ended (its last append applied) and it is off the registry. */
  readonly ended: Deferred.Deferred<void>;
}

/** The server's table of connected agents: one per source (single writer). */
export type Registry = Map<string, ConnectedAgent>;

/** Why the server ends a session. */
export interface Refusal {
  readonly _tag: "Refusal";
  readonly code: string;
  readonly reason: string;
}

const refuse = (code: string, reason: string): Effect.Effect<never, Refusal> => Effect.fail({ _tag: "Refusal", code, reason });

type Hello = Extract<Protocol.Message, { _tag: "Hello" }>;

const within = (link: Link, ms: number, what: string): Effect.Effect<Protocol.Message, LinkClosed | Refusal> =>
  link.receive.pipe(Effect.timeoutFail({ duration: ms, onTimeout: () => ({ _tag: "Refusal", code: "timeout", reason: `no ${what} within ${ms} ms` }) as const }));

const handshake = (config: Config, link: Link): Effect.Effect<Hello, LinkClosed | Refusal> =>
  Effect.gen(function* () {
    const hello = yield* within(link, config.helloTimeoutMs, "hello");
    if (hello._tag !== "Hello") return yield* refuse("protocol", `expected Hello, got ${hello._tag}`);
    if (hello.protocol !== Protocol.version) return yield* refuse("version", `protocol ${hello.protocol} is not supported (this store speaks ${Protocol.version})`);
    if (hello.role === "agent" && hello.source === null) return yield* refuse("protocol", "an agent must name its source");
    const nonce = Auth.nonce();
    yield* link.send({ _tag: "Challenge", protocol: Protocol.version, nonce, secured: config.secret !== null });
    const proof = yield* within(link, config.helloTimeoutMs, "proof");
    if (proof._tag !== "Proof") return yield* refuse("protocol", `expected Proof, got ${proof._tag}`);
    if (config.secret !== null && !Auth.verify(config.secret, nonce, hello.role, hello.source, proof.mac)) {
      return yield* refuse("auth", "authentication failed: wrong or missing secret");
    }
    return hello;
  });

/** Longest a session taking over waits for the old one to end (its append in flight applied). */
const takeOverWaitMs = 30_000;

/**
 * Makes this session its source's writer. Another agent connected already is refused (one writer per
 * source), unless it is the same agent (the same `writer`: one spool, whose lock lets one agent run),
 * restarted after a crash the store has not yet seen: its old connection is closed, and once its
 * session has ended this one takes its place.
 */
const register = (config: Config, registry: Registry, link: Link, source: string, writer: string | undefined): Effect.Effect<void, Refusal> =>
  Effect.gen(function* () {
    const other = registry.get(source);
    const busy = (peer: string) => refuse("busy", `source ${JSON.stringify(source)} already has an agent connected (from ${peer}); one writer per source`);
    if (other !== undefined) {
      if (writer === undefined || other.writer !== writer) return yield* busy(other.info.peer);
      config.log(`${link.peer} takes over ${source} from ${other.info.peer} (the same agent, restarted)`);
      yield* other.link.close("taken over by the same agent, restarted");
      const ended = yield* Deferred.await(other.ended).pipe(Effect.timeout(takeOverWaitMs), Effect.option);
      const now = registry.get(source);
      if (ended._tag === "None" || now !== undefined) return yield* busy(now?.info.peer ?? other.info.peer);
    }
    registry.set(source, { link, info: { peer: link.peer, since: Date.now(), report: null }, waiters: [], writer, ended: yield* Deferred.make<void>() });
  });

const unregister = (registry: Registry, link: Link, source: string) =>
  Effect.gen(function* () {
    const agent = registry.get(source);
    if (agent?.link !== link) return;
    registry.delete(source);
    yield* Deferred.succeed(agent.ended, undefined);
  });

const append = (config: Config, registry: Registry, link: Link, source: string, events: ReadonlyArray<unknown>, recent: RecentChunks.RecentChunks) =>
  Effect.gen(function* () {
    const expanded = yield* Effect.promise(() => Deltas.expand(config.store, source, events, recent.read));
    if (E.isLeft(expanded)) return yield* refuse("append", expanded.left);
    const out = yield* Effect.promise(() => config.store.append(source, expanded.right));
    if (E.isLeft(out)) return yield* refuse("append", StoreError.describe(out.left));
    yield* link.send({ _tag: "Ack", seq: out.right.head.seq });
    const agent = registry.get(source);
    for (const e of events as ReadonlyArray<{ _tag?: unknown; label?: unknown; seq?: unknown }>) {
      if (e._tag !== "CheckpointMarked" || agent === undefined) continue;
      for (const w of agent.waiters.filter((w) => w.label === e.label)) yield* Deferred.succeed(w.done, e.seq as number);
    }
  }).pipe(Effect.uninterruptible);

const checkpoint = (config: Config, registry: Registry, q: Extract<Protocol.Query, { _tag: "Checkpoint" }>): Effect.Effect<unknown, string> =>
  Effect.gen(function* () {
    const agent = registry.get(q.source);
    if (agent !== undefined) {
      // The source's writer marks it, in order with its own events.
      const done = yield* Deferred.make<number>();
      agent.waiters.push({ label: q.label, done });
      yield* agent.link.send({ _tag: "CheckpointRequested", label: q.label }).pipe(Effect.mapError((e) => `the agent is gone: ${e.reason}`));
      const seq = yield* Deferred.await(done).pipe(
        Effect.timeoutFail({ duration: config.checkpointTimeoutMs, onTimeout: () => `the agent did not mark the checkpoint within ${config.checkpointTimeoutMs} ms` }),
        Effect.ensuring(Effect.sync(() => agent.waiters.splice(agent.waiters.findIndex((w) => w.done === done), 1))),
      );
      return { seq, label: q.label };
    }
    const head = yield* Effect.promise(() => config.store.head(q.source));
    if (head === undefined) return yield* Effect.fail(`the store has no source ${JSON.stringify(q.source)}`);
    const event = { _tag: "CheckpointMarked", source: q.source, seq: head.seq + 1, at: Date.now(), label: q.label };
    const out = yield* Effect.promise(() => config.store.append(q.source, [event]));
    if (E.isLeft(out)) return yield* Effect.fail(StoreError.describe(out.left));
    return { seq: event.seq, label: q.label };
  });

const query = (config: Config, registry: Registry, link: Link, id: number, q: Protocol.Query, recent: RecentChunks.RecentChunks): Effect.Effect<void, LinkClosed> =>
  Effect.gen(function* () {
    if (q._tag === "Checkpoint") {
      const made = yield* Effect.either(checkpoint(config, registry, q));
      return yield* link.send(made._tag === "Right" ? { _tag: "Reply", id, more: false, result: made.right } : { _tag: "Failed", id, reason: made.left });
    }
    const results = Queries.answer(config.store, q, (s) => registry.get(s)?.info ?? null, recent.read);
    let current = yield* Effect.tryPromise({ try: () => results.next(), catch: (e) => (e as Error).message }).pipe(Effect.either);
    while (current._tag === "Right" && current.right.done !== true) {
      const value = current.right.value;
      current = yield* Effect.tryPromise({ try: () => results.next(), catch: (e) => (e as Error).message }).pipe(Effect.either);
      const more = current._tag === "Right" && current.right.done !== true;
      yield* link.send({ _tag: "Reply", id, more, result: value });
    }
    if (current._tag === "Left") yield* link.send({ _tag: "Failed", id, reason: current.left });
  });

/** Chunk bytes a session keeps after reading them (a batch's bases, between its signatures and its append). */
const recentChunkBytes = 16 * 1024 * 1024;

/** Most events one grouped append may hold. */
const groupEvents = 4096;

/**
 * Appends that have already arrived behind the first are committed with it as one batch (one
 * sync), so a steady stream of small appends is not limited by the disk's sync rate. The first
 * message that is not an append is kept for the next turn.
 */
const gather = (link: Link, first: ReadonlyArray<unknown>) =>
  Effect.gen(function* () {
    const events = [...first];
    while (events.length < groupEvents) {
      const m = yield* link.poll;
      if (m === undefined) return { events, held: undefined };
      if (m._tag !== "Append") return { events, held: m };
      events.push(...m.events);
    }
    return { events, held: undefined };
  });

/**
 * True when a message can be answered beside the append being applied with the answer it would get
 * after it: a ping or report; a `Signatures` or `Held` query (they read only stored chunks) when the
 * store already holds every chunk it names, so the append could not change the answer. Anything else
 * waits for the append before it.
 */
const answersAtOnce = (store: Store, m: Protocol.Message): Effect.Effect<boolean> => {
  if (m._tag === "Ping" || m._tag === "Report") return Effect.succeed(true);
  if (m._tag !== "Query" || (m.query._tag !== "Signatures" && m.query._tag !== "Held")) return Effect.succeed(false);
  const digests = m.query.digests;
  return Effect.tryPromise(() => store.holds(digests)).pipe(Effect.map((held) => held.every((h) => h)), Effect.orElseSucceed(() => false));
};

const serve = (config: Config, registry: Registry, link: Link, hello: Hello): Effect.Effect<never, LinkClosed | Refusal> => {
  let held: Protocol.Message | undefined;
  // Base chunks read to sign them, kept for the append whose deltas they rebuild.
  const recent = RecentChunks.make(config.store.chunk, recentChunkBytes);
  // The append being applied, on its own fiber: the session reads on meanwhile.
  let applying: Fiber.RuntimeFiber<void, LinkClosed | Refusal> | undefined;
  const settle = Effect.suspend(() => {
    const fiber = applying;
    applying = undefined;
    return fiber === undefined ? Effect.void : Fiber.join(fiber);
  });
  const idle = within(link, config.idleTimeoutMs, "message (the connection was idle)");
  // A refused append ends the session even while it waits for the next message.
  const next = Effect.suspend(() => (applying === undefined ? idle : Effect.raceFirst(idle, Fiber.join(applying).pipe(Effect.zipRight(Effect.never)))));
  // However the session ends, it ends after the append it was applying (a session taking over waits for it).
  const applied = Effect.suspend(() => (applying === undefined ? Effect.void : Fiber.await(applying)));
  return Effect.forever(
    Effect.gen(function* () {
      const m = held ?? (yield* next);
      held = undefined;
      if (applying !== undefined && !(yield* answersAtOnce(config.store, m))) yield* settle;
      switch (m._tag) {
        case "Append": {
          if (hello.role !== "agent") return yield* refuse("protocol", "only an agent may append");
          const group = yield* gather(link, m.events);
          held = group.held;
          applying = yield* Effect.fork(append(config, registry, link, hello.source!, group.events, recent));
          return;
        }
        case "PutChunks": {
          if (hello.role !== "agent") return yield* refuse("protocol", "only an agent may send chunks");
          const stored = yield* Effect.promise(() => config.store.putChunks(m.chunks));
          return E.isLeft(stored) ? yield* refuse("append", StoreError.describe(stored.left)) : undefined;
        }
        case "Query":
          return yield* query(config, registry, link, m.id, m.query, recent);
        case "Report": {
          const agent = hello.role === "agent" ? registry.get(hello.source!) : undefined;
          if (agent !== undefined && agent.link === link) agent.info = { ...agent.info, report: m.report };
          return;
        }
        case "Ping":
          return yield* link.send({ _tag: "Pong", at: m.at });
        default:
          return yield* refuse("protocol", `unexpected ${m._tag} from a client`);
      }
    }),
  ).pipe(Effect.ensuring(applied));
};

/**
 * Runs one session to its end. Never fails: every end is logged.
 *
 * @category sessions
 */
export const run = (config: Config, registry: Registry, link: Link): Effect.Effect<void> =>
  Effect.gen(function* () {
    const hello = yield* handshake(config, link);
    // An agent is registered first: its head is read once no other session of its source can append.
    if (hello.role === "agent") yield* register(config, registry, link, hello.source!, hello.writer);
    const welcome = Effect.gen(function* () {
      const head = hello.source === null ? null : yield* Effect.promise(() => Queries.headMark(config.store, hello.source!));
      // The agent lists and stats its tree now; meanwhile the store readies the fingerprints it will ask for.
      if (hello.role === "agent") void config.store.warm(hello.source!).catch(() => undefined);
      yield* link.send({ _tag: "Welcome", generation: yield* Effect.promise(() => config.store.generation()), head });
      config.log(`${link.peer} ${hello.role}${hello.source === null ? "" : ` for ${hello.source}`} connected`);
      return yield* serve(config, registry, link, hello);
    });
    return yield* hello.role === "agent" ? welcome.pipe(Effect.ensuring(unregister(registry, link, hello.source as SourceId))) : welcome;
  }).pipe(
    // The store failing under a session (a full or failing disk: EFBIG, ENOSPC, EIO) is said, to the
    // log and to the client, as a refusal the client can tell apart: an agent keeps its events and
    // tries again later, where a silent close had it reconnect and resend at once, for ever.
    Effect.catchAllDefect((defect) => refuse(Protocol.storeFailed, `the store failed: ${defect instanceof Error ? defect.message : String(defect)}`)),
    Effect.catchAll((e) =>
      e._tag === "Refusal"
        ? Effect.gen(function* () {
          config.log(`${link.peer} refused (${e.code}): ${e.reason}`);
          yield* link.send({ _tag: "Refused", code: e.code, reason: e.reason }).pipe(Effect.ignore);
          yield* Effect.sleep(50);
        })
        : Effect.sync(() => config.log(`${link.peer} closed: ${e.reason}`))
    ),
    Effect.ensuring(link.close("session ended")),
  );
