// Why a link over TCP ended, when the peer goes away: a store that resets the connection is reported
// as "connection closed by the peer (ECONNRESET)", not as the system's bare "read ECONNRESET".
import { createServer, connect, type Socket } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
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

test("other socket errors keep the system's words", () => {
  assert.is(Link.socketReason(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })), "connect ECONNREFUSED 127.0.0.1:1");
  assert.is(Link.socketReason(Object.assign(new Error("write EPIPE"), { code: "EPIPE" })), "connection closed by the peer (EPIPE)");
});

test.run();
