/**
 * Server — the store server: listens on TCP (or TLS), runs one `Session` per connection, and shuts
 * down cleanly: it stops accepting, lets in-flight appends finish, ends the sessions, then closes
 * the store.
 *
 * @example
 * const server = await Server.start({ store, secret: null, listen: { host: "127.0.0.1", port: 0 } });
 * console.log(server.address);   // "127.0.0.1:40123"
 * await server.stop();
 *
 * @module
 */
import { Effect, Fiber } from "effect";
import { createServer as createTcpServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { Store } from "../../store/Store.ts";
import * as Link from "../wire/Link.ts";
import * as Session from "./Session.ts";

/** How to start a server. */
export interface Options {
  readonly store: Store;
  readonly secret: Uint8Array | null;
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls?: { readonly cert: Uint8Array; readonly key: Uint8Array } | undefined;
  readonly helloTimeoutMs?: number;
  readonly limits?: Link.Limits;
  readonly log?: (line: string) => void;
}

/** A running server. */
export interface Running {
  readonly address: string;
  readonly port: number;
  readonly registry: Session.Registry;
  /** Stops accepting, finishes in-flight appends, ends sessions, closes the store. */
  readonly stop: () => Promise<void>;
}

/**
 * Starts a server; resolves once it listens.
 *
 * @category constructors
 */
export const start = async (options: Options): Promise<Running> => {
  const registry: Session.Registry = new Map();
  const config: Session.Config = {
    store: options.store,
    secret: options.secret,
    helloTimeoutMs: options.helloTimeoutMs ?? 30_000,
    idleTimeoutMs: 60_000,
    checkpointTimeoutMs: 30_000,
    log: options.log ?? (() => {}),
  };
  const sessions = new Set<Fiber.RuntimeFiber<void>>();
  const accept = (socket: Socket) => {
    socket.setNoDelay(true);
    const fiber = Effect.runFork(Session.run(config, registry, Link.fromSocket(socket, options.limits)));
    sessions.add(fiber);
    fiber.addObserver(() => sessions.delete(fiber));
  };
  const server: NetServer = options.tls === undefined
    ? createTcpServer(accept)
    : createTlsServer({ cert: Buffer.from(options.tls.cert), key: Buffer.from(options.tls.key) }, accept);
  server.on("tlsClientError", (e: Error) => config.log(`TLS handshake failed: ${e.message}`));
  // Every socket, sessions or not (a TLS handshake in progress has none yet), is ended by stop().
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (e) => config.log(`listener error: ${e.message}`));
  const bound = server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : options.listen.port;
  const host = options.listen.host.includes(":") ? `[${options.listen.host}]` : options.listen.host;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Sessions end first (an append in flight completes); then any socket left is destroyed.
        void Effect.runPromise(Fiber.interruptAll([...sessions])).then(() => {
          for (const socket of sockets) socket.destroy();
        });
      });
      await options.store.close();
    })());
  return { address: `${host}:${port}`, port, registry, stop };
};
