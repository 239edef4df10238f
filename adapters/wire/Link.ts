/**
 * Link — a connection that carries protocol messages: frames over any duplex of bytes (a TCP or TLS
 * socket, or an in-memory pair for tests), each payload an `Envelope` (its header deflated when that
 * pays: see `Payload`) whose header is decoded as a `Protocol.Message` before anyone sees it. A
 * malformed frame, an oversize length, or a frame that stalls half-sent closes the link with a
 * reason; nothing else is affected.
 *
 * @example
 * import { Effect } from "effect";
 * import * as Link from "./Link.ts";
 * const [a, b] = Link.memoryPair();
 * await Effect.runPromise(a.send({ _tag: "Ping", at: 1 }));
 * await Effect.runPromise(b.receive);   // { _tag: "Ping", at: 1 }
 *
 * @module
 */
import { Effect, Queue } from "effect";
import * as E from "fp-ts/lib/Either.js";
import type { Socket } from "node:net";
import * as Frame from "../../core/Frame.ts";
import type * as Protocol from "../../core/Protocol.ts";
import * as Payload from "./Payload.ts";

/** The link is closed; `reason` says why. */
export interface LinkClosed {
  readonly _tag: "LinkClosed";
  readonly reason: string;
}

/** A message connection. */
export interface Link {
  readonly peer: string;
  /** Sends one message; waits while the peer is not reading (back-pressure). */
  readonly send: (message: Protocol.Message) => Effect.Effect<void, LinkClosed>;
  /** The next message, or why the link closed. */
  readonly receive: Effect.Effect<Protocol.Message, LinkClosed>;
  /** The next message if one has already arrived (for grouping work), without waiting. */
  readonly poll: Effect.Effect<Protocol.Message | undefined>;
  /** Closes the link (idempotent). */
  readonly close: (reason: string) => Effect.Effect<void>;
  /** True once closed. */
  readonly isClosed: () => boolean;
}

/** The byte stream under a link. */
export interface Duplex {
  readonly peer: string;
  /** Writes a frame's pieces in order (resolves when the stream can take more). */
  readonly write: (pieces: ReadonlyArray<Uint8Array>) => Promise<void>;
  readonly onData: (f: (bytes: Uint8Array) => void) => void;
  readonly onEnd: (f: (reason: string) => void) => void;
  readonly pause: () => void;
  readonly resume: () => void;
  readonly destroy: () => void;
}

/** Limits of one link. */
export interface Limits {
  readonly maxFrameBytes: number;
  /** A frame begun but not finished within this time closes the link. */
  readonly stallMs: number;
}

export const defaultLimits: Limits = { maxFrameBytes: Frame.defaultMaxBytes, stallMs: 30_000 };

type Incoming = { readonly _tag: "Message"; readonly message: Protocol.Message } | { readonly _tag: "Closed"; readonly reason: string };

/** Messages received and not yet taken past which a link stops reading, and below which it reads again. */
const highWater = 64;
const lowWater = 8;

/**
 * A link over a duplex of bytes.
 *
 * @category constructors
 */
export const fromDuplex = (duplex: Duplex, limits: Limits = defaultLimits): Link => {
  const queue = Effect.runSync(Queue.unbounded<Incoming>());
  let reader = Frame.reader(limits.maxFrameBytes);
  let closedReason: string | undefined;
  let paused = false;
  let lastData = 0;
  let held = 0;

  const shut = (reason: string): void => {
    if (closedReason !== undefined) return;
    closedReason = reason;
    clearInterval(watchdog);
    Queue.unsafeOffer(queue, { _tag: "Closed", reason });
    duplex.destroy();
  };
  const watchdog = setInterval(() => {
    if (Frame.pendingBytes(reader) > 0 && performance.now() - lastData > limits.stallMs) shut(`a frame stalled for over ${limits.stallMs} ms`);
  }, Math.min(1000, limits.stallMs));
  (watchdog as { unref?: () => void }).unref?.();

  duplex.onData((bytes) => {
    if (closedReason !== undefined) return;
    lastData = performance.now();
    const out = Frame.push(reader, bytes);
    reader = out.reader;
    for (const frame of out.frames) {
      const message = Payload.decode(frame, limits.maxFrameBytes);
      if (E.isLeft(message)) return shut(`malformed message: ${message.left}`);
      held++;
      Queue.unsafeOffer(queue, { _tag: "Message", message: message.right });
    }
    if (out.error !== undefined) return shut(Frame.describeError(out.error));
    if (!paused && held > highWater) {
      paused = true;
      duplex.pause();
    }
  });
  duplex.onEnd((reason) => shut(reason));

  /**
   * A message leaves the queue, taken or polled: reading resumes once few are held. (Resuming only
   * on `receive` left a link whose queue `poll` had emptied paused while `receive` waited on it.)
   */
  const taken = (message: Protocol.Message): Protocol.Message => {
    held--;
    if (paused && held < lowWater) {
      paused = false;
      duplex.resume();
    }
    return message;
  };

  const receive: Effect.Effect<Protocol.Message, LinkClosed> = Effect.flatMap(Queue.take(queue), (item) => {
    if (item._tag === "Closed") {
      Queue.unsafeOffer(queue, item);
      return Effect.fail({ _tag: "LinkClosed", reason: item.reason } as const);
    }
    return Effect.succeed(taken(item.message));
  });

  const poll: Effect.Effect<Protocol.Message | undefined> = Effect.map(Queue.poll(queue), (item) => {
    if (item._tag === "None") return undefined;
    if (item.value._tag === "Closed") {
      Queue.unsafeOffer(queue, item.value);
      return undefined;
    }
    return taken(item.value.message);
  });

  const send = (message: Protocol.Message): Effect.Effect<void, LinkClosed> =>
    Effect.suspend(() => {
      if (closedReason !== undefined) return Effect.fail({ _tag: "LinkClosed", reason: closedReason } as const);
      const pieces = Payload.framePieces(message);
      return Effect.tryPromise({ try: () => duplex.write(pieces), catch: (e) => ({ _tag: "LinkClosed", reason: e instanceof Error ? e.message : String(e) }) as const });
    });

  return {
    peer: duplex.peer,
    send,
    receive,
    poll,
    close: (reason) => Effect.sync(() => shut(reason)),
    isClosed: () => closedReason !== undefined,
  };
};

/**
 * A socket error as the reason a link ended: a peer that went away (it reset the connection, or
 * closed it while this side wrote) is said plainly, with the system's code; others as the system
 * says them.
 *
 * @example
 * socketReason(Object.assign(new Error("write EPIPE"), { code: "EPIPE" })) // "connection closed by the peer (EPIPE)"
 * @category destructors
 */
export const socketReason = (e: Error & { readonly code?: string }): string =>
  e.code === "EPIPE" || e.code === "ECONNRESET" ? `connection closed by the peer (${e.code})` : e.message;

/** The duplex of a TCP or TLS socket. @category constructors */
export const socketDuplex = (socket: Socket): Duplex => {
  // Sends waiting for room in the socket, resumed together when it drains. A socket closed meanwhile
  // never drains, and a write the kernel had already taken reports no error once the socket is
  // destroyed: the waiting sends fail then (without this a send waited for ever). One listener of
  // each for all of them: one per send passed Node's limit of ten while a stalled store was pinged.
  let waiting: Array<{ readonly resolve: () => void; readonly reject: (e: Error) => void }> = [];
  const settle = (f: (w: (typeof waiting)[number]) => void): void => {
    const all = waiting;
    waiting = [];
    for (const w of all) f(w);
  };
  socket.on("drain", () => settle((w) => w.resolve()));
  socket.on("close", () => settle((w) => w.reject(new Error("connection closed by the peer"))));
  return {
    peer: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`,
    write: (pieces) =>
      new Promise((resolve, reject) => {
        if (socket.destroyed) return reject(new Error("socket closed"));
        // Corked, a frame's pieces go to the kernel in one vectored write.
        socket.cork();
        let flushed = true;
        for (const piece of pieces) flushed = socket.write(piece, (err) => (err ? reject(new Error(socketReason(err))) : undefined));
        socket.uncork();
        if (flushed) resolve();
        else waiting.push({ resolve, reject });
      }),
    onData: (f) => socket.on("data", (b: Uint8Array) => f(new Uint8Array(b.buffer, b.byteOffset, b.byteLength))),
    onEnd: (f) => {
      socket.on("error", (e) => f(socketReason(e)));
      socket.on("close", () => f("connection closed by the peer"));
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    destroy: () => socket.destroy(),
  };
};

/** A link over a socket. @category constructors */
export const fromSocket = (socket: Socket, limits: Limits = defaultLimits): Link => fromDuplex(socketDuplex(socket), limits);

/**
 * Two links joined in memory, for tests of the protocol without sockets.
 *
 * @category constructors
 */
export const memoryPair = (limits: Limits = defaultLimits): readonly [Link, Link] => {
  type End = { data?: (b: Uint8Array) => void; end?: (r: string) => void };
  const ends: [End, End] = [{}, {}];
  const duplex = (self: End, other: End, peer: string): Duplex => ({
    peer,
    write: async (pieces) => {
      const copy = Payload.joinPieces(pieces);
      queueMicrotask(() => other.data?.(copy));
    },
    onData: (f) => (self.data = f),
    onEnd: (f) => (self.end = f),
    pause: () => {},
    resume: () => {},
    destroy: () => {
      queueMicrotask(() => other.end?.("connection closed by the peer"));
    },
  });
  return [fromDuplex(duplex(ends[0], ends[1], "memory:a"), limits), fromDuplex(duplex(ends[1], ends[0], "memory:b"), limits)];
};

/** Parses `HOST:PORT` or `[IPv6]:PORT`. */
export const parseAddress = (text: string): E.Either<string, { readonly host: string; readonly port: number }> => {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port < 65536)) return E.left(`${JSON.stringify(text)} is not HOST:PORT`);
  return E.right({ host: m[1] ?? m[2]!, port });
};
