// The transport suite over real TCP on 127.0.0.1: the store server with a classic-level store on disk.
import { Effect } from "effect";
import { mkdtemp, rm } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Server from "../../adapters/server/Server.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Client from "../../adapters/wire/Client.ts";
import * as Frame from "../../core/Frame.ts";
import * as Store from "../../store/Store.ts";
import { run } from "./transport.ts";

run("TCP on 127.0.0.1", async (o) => {
  const dir = await mkdtemp(join(tmpdir(), "tidemark-wire-"));
  const store = await Store.openClassic(join(dir, "store"), { hash: sha256 });
  const server = await Server.start({
    store,
    secret: o.secret,
    listen: { host: "127.0.0.1", port: 0 },
    helloTimeoutMs: o.helloTimeoutMs,
    limits: { maxFrameBytes: Frame.defaultMaxBytes, stallMs: o.stallMs },
  });
  return {
    store,
    connect: (options) => Effect.runPromise(Effect.either(Client.connect({ ...options, address: server.address }))),
    raw: (bytes, waitMs) =>
      new Promise<boolean>((resolve) => {
        const socket = tcpConnect({ host: "127.0.0.1", port: server.port });
        const timer = setTimeout(() => {
          socket.destroy();
          resolve(false);
        }, waitMs);
        socket.on("connect", () => bytes.length > 0 && socket.write(bytes));
        socket.on("data", () => {});
        socket.on("error", () => {});
        socket.on("close", () => {
          clearTimeout(timer);
          resolve(true);
        });
      }),
    close: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
