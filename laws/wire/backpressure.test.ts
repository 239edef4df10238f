// A link stops reading when many messages wait and reads again once they are taken — by `receive`
// or by `poll` (the store's session drains grouped appends with `poll`).
import { Effect } from "effect";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Link from "../../adapters/wire/Link.ts";
import * as Payload from "../../adapters/wire/Payload.ts";

const fakeDuplex = () => {
  const state = { paused: false, pauses: 0, resumes: 0, feed: (_: Uint8Array) => {} };
  const duplex: Link.Duplex = {
    peer: "test",
    write: async () => {},
    onData: (f) => (state.feed = f),
    onEnd: () => {},
    pause: () => ((state.paused = true), state.pauses++),
    resume: () => ((state.paused = false), state.resumes++),
    destroy: () => {},
  };
  return { duplex, state };
};

const ping = (at: number) => Payload.joinPieces(Payload.framePieces({ _tag: "Ping", at }));

for (const [name, take] of [
  ["receive", (link: Link.Link) => Effect.runPromise(link.receive)],
  ["poll", (link: Link.Link) => Effect.runPromise(link.poll)],
] as const) {
  test(`a paused link reads again once ${name} has taken what it held`, async () => {
    const { duplex, state } = fakeDuplex();
    const link = Link.fromDuplex(duplex);
    for (let i = 0; i < 100; i++) state.feed(ping(i));
    assert.ok(state.paused, "100 waiting messages pause reading");
    const got: Array<unknown> = [];
    for (let i = 0; i < 100; i++) got.push(await take(link));
    assert.equal(got.map((m) => (m as { at: number }).at), Array.from({ length: 100 }, (_, i) => i));
    assert.not.ok(state.paused, "nothing held: reading again");
    assert.is(state.resumes, state.pauses);
    await Effect.runPromise(link.close("done"));
  });
}

test.run();
