// Why a link over TCP ended, when the peer goes away: a store that resets the connection is reported
// as "connection closed by the peer (ECONNRESET)", not as the system's bare "read ECONNRESET"; a
// peer that is not a tidemark store is said to be one; a send waiting on a peer that goes away fails.
import { Effect } from "effect";
import * as E from "fp-ts/lib/Either.js";
import { createServer, connect, type Socket } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Client from "../../adapters/wire/Client.ts";
import * as Link from "../../adapters/wire/Link.ts";

test("a connection reset by the peer ends the link with a plain reason", async () => {
  const server = createServer((s: Socket) => s.resetAndDestroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const socket = connect({ host: "127.0.0.1", port });
    const reasons: Array<string> = [];
    Link.socketDuplex(socket).onEnd((r) => reasons.push(r));
    const ended = await Promise.race([
      new Promise<boolean>((r) => socket.on("close", () => r(true))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5_000)),
    ]);
    assert.ok(ended, "the connection did not end within 5 s");
    assert.match(reasons[0] ?? "", /^connection closed by the peer( \((ECONNRESET|EPIPE)\))?$/);
    assert.ok(!reasons.some((r) => /^(read|write) E/.test(r)), reasons.join(" | "));
  } finally {
    server.close();
  }
});

test("something else listening (an HTTP server) is reported as not a tidemark store, with the TLS hint", async () => {
  const server = createServer((s: Socket) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const out = await Effect.runPromise(Effect.either(Client.connect({ address: `127.0.0.1:${port}`, role: "reader", source: null, secret: null })));
    assert.ok(E.isLeft(out), "the connection must fail");
    const error = out.left;
    assert.is(error._tag, "Disconnected");
    assert.match(Client.describeError(error), /frame of \d+ bytes is over the \d+-byte limit: what answers there is not a tidemark store \(if the store uses TLS, pass --tls-ca or --tls-pin\)/);
  } finally {
    server.close();
  }
});

test("a connection closed before the store's greeting gets the TLS hint, as a TLS store spoken to in plain TCP does", async () => {
  // A TLS store reads the client's first bytes as a handshake, finds none, and closes.
  const server = createServer((s: Socket) => s.once("data", () => s.destroy()));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const out = await Effect.runPromise(Effect.either(Client.connect({ address: `127.0.0.1:${port}`, role: "reader", source: null, secret: null })));
    assert.ok(E.isLeft(out), "the connection must fail");
    assert.match(Client.describeError(out.left), /connection closed by the peer( \(ECONNRESET\))? before its greeting \(if the store uses TLS, pass --tls-ca or --tls-pin\)/);
  } finally {
    server.close();
  }
});

test("a send waiting for room in a full socket fails when the peer closes, instead of waiting for ever", async () => {
  // The peer reads nothing, so a 32 MiB frame fills the socket, then it goes away, as a store does
  // when it refuses a session mid-upload. The write the kernel had taken reports no error once the
  // socket is destroyed, and a destroyed socket never drains: an agent hung there, deaf to SIGTERM.
  for (const close of ["destroy", "resetAndDestroy"] as const) {
    const server = createServer((s: Socket) => {
      s.pause();
      setTimeout(() => s[close](), 300);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const socket = connect({ host: "127.0.0.1", port });
    try {
      await new Promise((r) => socket.once("connect", r));
      const duplex = Link.socketDuplex(socket);
      duplex.onEnd(() => {});
      const listeners = () => [socket.listenerCount("drain"), socket.listenerCount("close")];
      const before = listeners();
      // Pings and reports go on while a large send waits: they wait too, without a listener each
      // (more than ten on one socket and Node warns of a leak, as an agent did against a stalled store).
      const sends = Array.from({ length: 15 }, (_, i) => duplex.write([new Uint8Array(i === 0 ? 32 << 20 : 100)]));
      assert.equal(listeners(), before, "the waiting sends add no listeners");
      const outcomes = await Promise.race([
        Promise.all(sends.map((s) => s.then(() => "sent", (e: Error) => `failed: ${e.message}`))),
        new Promise<ReadonlyArray<string>>((r) => setTimeout(() => r(["still waiting after 5 s"]), 5_000)),
      ]);
      assert.ok(outcomes.every((o) => /^failed: connection closed by the peer( \((ECONNRESET|EPIPE)\))?$/.test(o)), `${close}: ${[...new Set(outcomes)].join(" | ")}`);
    } finally {
      socket.destroy();
      server.close();
    }
  }
});

test("other socket errors keep the system's words", () => {
  assert.is(Link.socketReason(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })), "connect ECONNREFUSED 127.0.0.1:1");
  assert.is(Link.socketReason(Object.assign(new Error("write EPIPE"), { code: "EPIPE" })), "connection closed by the peer (EPIPE)");
});

test.run();
