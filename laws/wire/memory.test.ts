// The transport suite over the in-memory link: the server's sessions and the client, no sockets.
import { Effect } from "effect";
import { MemoryLevel } from "memory-level";
import * as Session from "../../adapters/server/Session.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Client from "../../adapters/wire/Client.ts";
import * as Link from "../../adapters/wire/Link.ts";
import * as Frame from "../../core/Frame.ts";
import { fromLevel } from "../../store/Database.ts";
import * as Store from "../../store/Store.ts";
import { run } from "./transport.ts";

run("an in-memory link", async (o) => {
  const db = fromLevel(new MemoryLevel<string, Uint8Array>({ keyEncoding: "utf8", valueEncoding: "view" }));
  await db.open();
  const store = Store.make(db, { hash: sha256 });
  const config: Session.Config = { store, secret: o.secret, helloTimeoutMs: o.helloTimeoutMs, idleTimeoutMs: 60_000, checkpointTimeoutMs: 5000, log: () => {} };
  const registry: Session.Registry = new Map();
  const limits = { maxFrameBytes: Frame.defaultMaxBytes, stallMs: o.stallMs };
  return {
    store,
    connect: (options) => {
      const [server, client] = Link.memoryPair(limits);
      Effect.runFork(Session.run(config, registry, server));
      return Effect.runPromise(Effect.either(Client.over(client, options)));
    },
    raw: async (bytes, waitMs) => {
      let closed = false;
      let feed: (b: Uint8Array) => void = () => {};
      const duplex: Link.Duplex = {
        peer: "memory:raw",
        write: async () => {},
        onData: (f) => (feed = f),
        onEnd: () => {},
        pause: () => {},
        resume: () => {},
        destroy: () => (closed = true),
      };
      Effect.runFork(Session.run(config, registry, Link.fromDuplex(duplex, limits)));
      if (bytes.length > 0) feed(bytes);
      const end = Date.now() + waitMs;
      while (!closed && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      return closed;
    },
    close: () => store.close(),
  };
});
