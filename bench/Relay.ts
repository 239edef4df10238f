/**
 * Relay — a byte-counting TCP relay on 127.0.0.1: every byte a tool sends or receives crosses it,
 * counted the same way for every tool.
 *
 * @example
 * const relay = await Relay.start(7420);      // listens on a free port, forwards to 127.0.0.1:7420
 * relay.reset(); … ; relay.counts()            // { up, down } bytes since the reset
 *
 * @module
 */
import { createServer, connect, type Socket } from "node:net";

/** A running relay. */
export interface Relay {
  readonly port: number;
  readonly counts: () => { readonly up: number; readonly down: number };
  readonly reset: () => void;
  readonly close: () => Promise<void>;
}

/** Starts a relay to `127.0.0.1:target`. */
export const start = async (target: number): Promise<Relay> => {
  let up = 0;
  let down = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: "127.0.0.1", port: target });
    for (const s of [client, upstream]) {
      // Transparent: no Nagle delay added to either tool's small messages.
      s.setNoDelay(true);
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (d: Buffer) => {
      up += d.length;
      if (!upstream.write(d)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.on("data", (d: Buffer) => {
      down += d.length;
      if (!client.write(d)) upstream.pause();
    });
    client.on("drain", () => upstream.resume());
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : 0,
    counts: () => ({ up, down }),
    reset: () => {
      up = 0;
      down = 0;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
};
