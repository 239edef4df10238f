/**
 * Client — the client end of the protocol, used by the agent and by the readers of the command
 * line: connect (TCP or TLS, with a CA or a pinned certificate), hello, prove the secret, then send
 * appends and queries. Incoming acknowledgements, replies and checkpoint requests are dispatched by
 * one fiber; a refusal or a lost connection fails every pending query with the reason.
 *
 * @example
 * const client = await Effect.runPromise(Client.connect({ address: "127.0.0.1:7420", role: "reader", source: null, secret: null }));
 * const [sources] = await Effect.runPromise(client.query({ _tag: "Sources" }));
 *
 * @module
 */
import { Deferred, Effect } from "effect";
import * as E from "fp-ts/lib/Either.js";
import type * as t from "io-ts";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { SourceId } from "../../core/Codecs.ts";
import { describeErrors } from "../../core/Codecs.ts";
import * as Protocol from "../../core/Protocol.ts";
import * as Auth from "./Auth.ts";
import * as Link from "./Link.ts";

/** Why a client call failed. `Refused` is final (a wrong secret, a busy source); the others may be retried. */
export type ClientError =
  | { readonly _tag: "Unreachable"; readonly reason: string }
  | { readonly _tag: "Refused"; readonly code: string; readonly reason: string }
  | { readonly _tag: "Disconnected"; readonly reason: string }
  | { readonly _tag: "QueryFailed"; readonly reason: string };

/** One line for a client error. */
export const describeError = (e: ClientError): string =>
  e._tag === "Unreachable"
    ? `cannot reach the store: ${e.reason}`
    : e._tag === "Refused"
    ? `the store refused the connection: ${e.reason}`
    : e._tag === "Disconnected"
    ? `lost the connection to the store: ${e.reason}`
    : e.reason;

/** TLS settings of a client: trust a CA file's certificates, or pin the store's certificate by its SHA-256. */
export interface TlsOptions {
  readonly ca?: Uint8Array | undefined;
  readonly pin?: string | undefined;
}

/** How to connect. */
export interface Options {
  readonly address: string;
  readonly role: Protocol.Role;
  readonly source: SourceId | null;
  readonly secret: Uint8Array | null;
  readonly lastSeq?: number;
  /** An agent's lasting identity (`Hello.writer`): connecting again, it takes over its own connection a crash left open. */
  readonly writer?: string | undefined;
  readonly tls?: TlsOptions | undefined;
  readonly connectTimeoutMs?: number;
  readonly onAck?: (seq: number) => void;
  readonly onCheckpointRequested?: (label: string) => void;
  readonly onClose?: (reason: string) => void;
}

/** A connected, authenticated client. */
export interface Client {
  readonly welcome: Extract<Protocol.Message, { _tag: "Welcome" }>;
  /** Every result of a query (one, or a `Tree`'s pages). */
  readonly query: (q: Protocol.Query) => Effect.Effect<ReadonlyArray<unknown>, ClientError>;
  /** A query whose pages are handed to `onPage` as they arrive (for large trees). */
  readonly stream: (q: Protocol.Query, onPage: (page: unknown) => void) => Effect.Effect<void, ClientError>;
  readonly send: (m: Protocol.Message) => Effect.Effect<void, ClientError>;
  readonly close: (reason?: string) => Effect.Effect<void>;
  readonly isClosed: () => boolean;
  /** Why the connection closed (a `Refused` from the store, such as an append it would not take), once it has. */
  readonly closedWith: () => ClientError | undefined;
  /** When the store was last heard from (`performance.now()`). */
  readonly lastHeard: () => number;
}

/** Decodes a reply with a codec, failing as a `QueryFailed`. */
export const decodeResult = <A>(codec: t.Type<A, unknown, unknown>, u: unknown): Effect.Effect<A, ClientError> => {
  const out = codec.decode(u);
  return E.isRight(out) ? Effect.succeed(out.right) : Effect.fail({ _tag: "QueryFailed", reason: `the store sent a malformed reply: ${describeErrors(out.left)}` });
};

const normalisePin = (pin: string): string => pin.replace(/:/g, "").toLowerCase();

const openSocket = (o: Options): Effect.Effect<Socket, ClientError> => {
  const address = Link.parseAddress(o.address);
  if (E.isLeft(address)) return Effect.fail({ _tag: "Unreachable", reason: address.left });
  const { host, port } = address.right;
  return Effect.async<Socket, ClientError>((resume) => {
    const tls = o.tls;
    const socket: Socket = tls === undefined
      ? tcpConnect({ host, port })
      : tlsConnect({ host, port, ca: tls.ca === undefined ? undefined : Buffer.from(tls.ca), rejectUnauthorized: tls.pin === undefined, servername: /^[\d.:]+$/.test(host) ? undefined : host });
    const ready = tls === undefined ? "connect" : "secureConnect";
    const timer = setTimeout(() => fail(`no connection within ${o.connectTimeoutMs ?? 10_000} ms`), o.connectTimeoutMs ?? 10_000);
    const fail = (reason: string) => {
      clearTimeout(timer);
      socket.destroy();
      resume(Effect.fail({ _tag: "Unreachable", reason }));
    };
    socket.once("error", (e) => fail(e.message));
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      if (tls?.pin !== undefined) {
        const seen = (socket as unknown as { getPeerCertificate(): { fingerprint256?: string } }).getPeerCertificate().fingerprint256 ?? "";
        if (normalisePin(seen) !== normalisePin(tls.pin)) {
          socket.destroy();
          return resume(Effect.fail({ _tag: "Refused", code: "tls", reason: `the store's certificate ${seen} does not match the pinned SHA-256` }));
        }
      }
      socket.setNoDelay(true);
      resume(Effect.succeed(socket));
    });
  });
};

const expect = <Tag extends Protocol.Message["_tag"]>(link: Link.Link, tag: Tag): Effect.Effect<Extract<Protocol.Message, { _tag: Tag }>, ClientError> =>
  Effect.gen(function* () {
    const m = yield* link.receive.pipe(
      Effect.timeoutFail({ duration: 30_000, onTimeout: () => ({ _tag: "LinkClosed", reason: `no ${tag} from the store within 30 s` }) as const }),
      Effect.mapError((e): ClientError => ({ _tag: "Disconnected", reason: e.reason })),
    );
    if (m._tag === "Refused") return yield* Effect.fail<ClientError>({ _tag: "Refused", code: m.code, reason: m.reason });
    if (m._tag !== tag) return yield* Effect.fail<ClientError>({ _tag: "Disconnected", reason: `expected ${tag} from the store, got ${m._tag}` });
    return m as Extract<Protocol.Message, { _tag: Tag }>;
  });

/**
 * A first reply that is no frame or message of this protocol (an oversize length, bytes that do not
 * decode) comes from something else listening there: an HTTP server, a TLS store spoken to in plain
 * TCP. Said so, instead of only the frame's fault. A connection closed before the store's greeting,
 * when no TLS was asked for, gets the TLS hint too: that is what a TLS store does with plain TCP.
 */
const notAStore = (e: ClientError, tlsHint: string): ClientError => {
  if (e._tag !== "Disconnected") return e;
  if (/^(frame of \d+ bytes|malformed message)/.test(e.reason)) return { ...e, reason: `${e.reason}: what answers there is not a tidemark store${tlsHint}` };
  // A TLS store drops a connection that does not begin with a TLS handshake, saying nothing.
  if (tlsHint !== "" && e.reason.startsWith("connection closed by the peer")) return { ...e, reason: `${e.reason} before its greeting${tlsHint}` };
  return e;
};

interface Pending {
  readonly pages: Array<unknown>;
  readonly onPage: ((page: unknown) => void) | undefined;
  readonly done: Deferred.Deferred<ReadonlyArray<unknown>, ClientError>;
}

/**
 * Connects, says hello, proves the secret and waits for the welcome.
 *
 * @category constructors
 */
export const connect = (o: Options): Effect.Effect<Client, ClientError> =>
  Effect.flatMap(openSocket(o), (socket) => over(Link.fromSocket(socket), o));

/**
 * Says hello over an open link (a socket's, or one end of an in-memory pair) and waits for the welcome.
 *
 * @category constructors
 */
export const over = (link: Link.Link, o: Omit<Options, "address" | "tls" | "connectTimeoutMs">): Effect.Effect<Client, ClientError> =>
  Effect.gen(function* () {
    const tlsHint = "tls" in o && o.tls !== undefined ? "" : " (if the store uses TLS, pass --tls-ca or --tls-pin)";
    const handshake = Effect.gen(function* () {
      const writer = o.writer === undefined ? {} : { writer: o.writer };
      yield* link.send({ _tag: "Hello", protocol: Protocol.version, role: o.role, source: o.source, lastSeq: o.lastSeq ?? 0, ...writer });
      const challenge = yield* expect(link, "Challenge").pipe(Effect.mapError((e) => notAStore(e, tlsHint)));
      if (challenge.secured && o.secret === null) {
        return yield* Effect.fail<ClientError>({ _tag: "Refused", code: "auth", reason: "the store requires a secret (pass --secret-file)" });
      }
      yield* link.send({ _tag: "Proof", mac: o.secret === null ? null : Auth.prove(o.secret, challenge.nonce, o.role, o.source) });
      return yield* expect(link, "Welcome");
    }).pipe(Effect.mapError((e): ClientError => (e._tag === "LinkClosed" ? { _tag: "Disconnected", reason: `${e.reason} during the hello${tlsHint}` } : e)));
    const welcome = yield* handshake.pipe(Effect.tapError(() => link.close("handshake failed")));
    return running(link, welcome, o);
  });

const running = (link: Link.Link, welcome: Client["welcome"], o: Omit<Options, "address">): Client => {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closedBy: ClientError | undefined;
  let heard = performance.now();
  const finish = (error: ClientError) =>
    Effect.gen(function* () {
      if (closedBy !== undefined) return;
      closedBy = error;
      for (const p of pending.values()) yield* Deferred.fail(p.done, error);
      pending.clear();
      yield* link.close(error.reason);
      o.onClose?.(describeError(error));
    });
  const dispatch = (m: Protocol.Message) =>
    Effect.gen(function* () {
      heard = performance.now();
      switch (m._tag) {
        case "Ack":
          return o.onAck?.(m.seq);
        case "CheckpointRequested":
          return o.onCheckpointRequested?.(m.label);
        case "Reply": {
          const p = pending.get(m.id);
          if (p === undefined) return;
          if (p.onPage !== undefined) p.onPage(m.result);
          else p.pages.push(m.result);
          if (!m.more) {
            pending.delete(m.id);
            yield* Deferred.succeed(p.done, p.pages);
          }
          return;
        }
        case "Failed": {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (p !== undefined) yield* Deferred.fail(p.done, { _tag: "QueryFailed", reason: m.reason });
          return;
        }
        case "Refused":
          return yield* finish({ _tag: "Refused", code: m.code, reason: m.reason });
        case "Pong":
          return;
        default:
          return yield* finish({ _tag: "Disconnected", reason: `unexpected ${m._tag} from the store` });
      }
    });
  Effect.runFork(
    Effect.forever(Effect.flatMap(link.receive, dispatch)).pipe(Effect.catchAll((e) => finish({ _tag: "Disconnected", reason: e.reason }))),
  );

  const send = (m: Protocol.Message): Effect.Effect<void, ClientError> =>
    closedBy !== undefined ? Effect.fail(closedBy) : link.send(m).pipe(Effect.mapError((e): ClientError => closedBy ?? { _tag: "Disconnected", reason: e.reason }));
  const stream = (q: Protocol.Query, onPage: ((page: unknown) => void) | undefined) =>
    Effect.gen(function* () {
      if (closedBy !== undefined) return yield* Effect.fail(closedBy);
      const id = nextId++;
      const done = yield* Deferred.make<ReadonlyArray<unknown>, ClientError>();
      pending.set(id, { pages: [], onPage, done });
      yield* send({ _tag: "Query", id, query: q });
      return yield* Deferred.await(done);
    });
  return {
    welcome,
    query: (q) => stream(q, undefined),
    stream: (q, onPage) => Effect.asVoid(stream(q, onPage)),
    send,
    close: (reason = "client closed") => finish({ _tag: "Disconnected", reason }),
    isClosed: () => closedBy !== undefined,
    closedWith: () => closedBy,
    lastHeard: () => heard,
  };
};
