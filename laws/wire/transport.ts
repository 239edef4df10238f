/**
 * The shared transport suite: the protocol between clients and the store server, run over every
 * link (in memory, real TCP on 127.0.0.1). `run(name, harness)` registers it with uvu.
 *
 * @module
 */
import { Effect } from "effect";
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { SourceId } from "../../core/Codecs.ts";
import type { Digest } from "../../core/Digest.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Chunking from "../../core/Chunking.ts";
import * as Delta from "../../core/Delta.ts";
import * as Event from "../../core/Event.ts";
import * as Manifest from "../../core/Manifest.ts";
import * as Protocol from "../../core/Protocol.ts";
import * as Frame from "../../core/Frame.ts";
import type { ItemPath } from "../../core/ItemPath.ts";
import * as Envelope from "../../core/Envelope.ts";
import type * as Store from "../../store/Store.ts";
import * as Client from "../../adapters/wire/Client.ts";
import { check } from "../property.ts";
import * as Model from "../core/model.ts";

/** A server under test and how to reach it. */
export interface Served {
  readonly store: Store.Store;
  /** Connects a client (hello, proof, welcome). */
  readonly connect: (o: Omit<Client.Options, "address">) => Promise<E.Either<Client.ClientError, Client.Client>>;
  /** Sends raw bytes on a fresh connection; resolves when the server closes it (or after `waitMs`, with false). */
  readonly raw: (bytes: Uint8Array, waitMs: number) => Promise<boolean>;
  readonly close: () => Promise<void>;
}

/** Starts a server with a secret (or none), a hello limit and a stall limit. */
export type Harness = (o: { readonly secret: Uint8Array | null; readonly helloTimeoutMs: number; readonly stallMs: number }) => Promise<Served>;

const secret = new TextEncoder().encode("correct horse");
const source = "wire-src" as SourceId;

/** An ItemCreated event of a small text file. */
export const created = (src: SourceId, path: string, text: string, seq: number): Event.Event => {
  const local = Model.localItem(path as ItemPath, { text, mtimeMs: 1000 });
  const chunks = [...local.chunks].map(([digest, bytes]) => ({ digest: digest as Digest, bytes }));
  return Event.stamp({ source: src, seq, at: 1000 + seq }, { _tag: "ItemCreated", path: path as ItemPath, meta: local.meta, manifest: local.manifest, chunks, base: null, origin: "live" });
};

/** An ItemCreated event of a file small enough to be one chunk, with that chunk's bytes. */
const fileEvent = (path: string, text: string, seq: number): Event.Event => {
  const { manifest, chunks } = Manifest.build(new TextEncoder().encode(text), Chunking.defaultParams, sha256);
  const meta = { type: "file", size: Manifest.size(manifest), mode: 0o644, mtimeMs: 1000, digest: Manifest.contentDigest(manifest, sha256), linkTarget: null } as const;
  const data = [...chunks].map(([digest, bytes]) => ({ digest, bytes }));
  return Event.stamp({ source, seq, at: 1000 + seq }, { _tag: "ItemCreated", path: path as ItemPath, meta, manifest, chunks: data, base: null, origin: "live" });
};

const run1 = <A>(e: Effect.Effect<A, Client.ClientError>) => Effect.runPromise(Effect.either(e));
const ok = <A>(x: E.Either<Client.ClientError, A>): A => {
  if (E.isLeft(x)) throw new Error(`unexpected failure: ${Client.describeError(x.left)}`);
  return x.right;
};
const until = async (f: () => boolean, ms = 5000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return f();
};

/** Registers the suite for one link. */
export const run = (name: string, harness: Harness): void => {
  const test = suite(`transport over ${name}`);
  let served: Served;
  test.before(async () => {
    served = await harness({ secret, helloTimeoutMs: 300, stallMs: 300 });
  });
  test.after(async () => served.close());

  test("a reader with the secret is welcomed; without it or with a wrong one it is refused", async () => {
    const good = ok(await served.connect({ role: "reader", source: null, secret }));
    assert.type(good.welcome.generation, "string");
    await Effect.runPromise(good.close());
    const none = await served.connect({ role: "reader", source: null, secret: null });
    assert.ok(E.isLeft(none) && none.left._tag === "Refused" && none.left.code === "auth");
    const wrong = await served.connect({ role: "reader", source: null, secret: new TextEncoder().encode("wrong") });
    assert.ok(E.isLeft(wrong) && wrong.left._tag === "Refused" && /authentication failed/.test(wrong.left.reason));
  });

  test("appends are acknowledged once stored, and a later query sees them (per-connection order)", async () => {
    const acks: Array<number> = [];
    const agent = ok(await served.connect({ role: "agent", source, secret, onAck: (s) => acks.push(s) }));
    assert.is(agent.welcome.head, null);
    ok(await run1(agent.send({ _tag: "Append", events: [created(source, "a.txt", "one", 1), created(source, "b.txt", "two", 2)] })));
    const [items] = ok(await run1(agent.query({ _tag: "Items", source, paths: ["a.txt", "b.txt", "c.txt"] })));
    const found = items as ReadonlyArray<readonly [string, unknown]>;
    assert.equal(found.map(([p, k]) => [p, k !== null]), [["a.txt", true], ["b.txt", true], ["c.txt", false]]);
    assert.ok(await until(() => acks.includes(2)));
    assert.is((await served.store.head(source))?.seq, 2);
    await Effect.runPromise(agent.close());
  });

  test("one writer per source: a second agent is refused while the first is connected", async () => {
    const first = ok(await served.connect({ role: "agent", source, secret }));
    const second = await served.connect({ role: "agent", source, secret });
    assert.ok(E.isLeft(second) && second.left._tag === "Refused" && second.left.code === "busy");
    await Effect.runPromise(first.close());
    await new Promise((r) => setTimeout(r, 100));
    const third = await served.connect({ role: "agent", source, secret });
    assert.ok(E.isRight(third), "the source is free again once the first agent is gone");
    await Effect.runPromise(third.right.close());
  });

  test("the same writer connecting again takes over its own connection (a crash the store has not seen); another is refused", async () => {
    let firstClosed = "";
    const first = ok(await served.connect({ role: "agent", source, secret, writer: "spool-a", onClose: (r) => (firstClosed = r) }));
    const other = await served.connect({ role: "agent", source, secret, writer: "spool-b" });
    assert.ok(E.isLeft(other) && other.left._tag === "Refused" && other.left.code === "busy", "another writer is refused");
    const anonymous = await served.connect({ role: "agent", source, secret });
    assert.ok(E.isLeft(anonymous) && anonymous.left._tag === "Refused" && anonymous.left.code === "busy", "an agent naming no writer is refused");
    const again = ok(await served.connect({ role: "agent", source, secret, writer: "spool-a" }));
    assert.ok(await until(() => firstClosed !== ""), "the old connection is closed");
    assert.ok(first.isClosed());
    const [head] = ok(await run1(again.query({ _tag: "Head", source })));
    assert.ok(head !== null, "the new connection is served");
    await Effect.runPromise(again.close());
  });

  test("a gap is refused with a reason, the connection closed, nothing written", async () => {
    const before = (await served.store.head(source))?.seq;
    let closed = "";
    const agent = ok(await served.connect({ role: "agent", source, secret, onClose: (r) => (closed = r) }));
    assert.is(agent.welcome.head?.seq, before);
    await run1(agent.send({ _tag: "Append", events: [created(source, "gap.txt", "x", before! + 5)] }));
    assert.ok(await until(() => closed !== ""));
    assert.match(closed, /sequence gap/);
    assert.is((await served.store.head(source))?.seq, before);
  });

  test("a replayed append is idempotent; the welcome's head mark names the last event", async () => {
    const agent = ok(await served.connect({ role: "agent", source, secret }));
    const mark = agent.welcome.head!;
    assert.equal([mark.seq, mark.kind, mark.name], [2, "ItemCreated", "b.txt"]);
    ok(await run1(agent.send({ _tag: "Append", events: [created(source, "b.txt", "two", 2)] })));
    const [head] = ok(await run1(agent.query({ _tag: "Head", source })));
    assert.is((head as { head: { seq: number } }).head.seq, 2);
    await Effect.runPromise(agent.close());
  });

  test("a checkpoint asked by a reader is marked by the connected agent, or by the store when none is", async () => {
    const reader = ok(await served.connect({ role: "reader", source: null, secret }));
    const [made] = ok(await run1(reader.query({ _tag: "Checkpoint", source, label: "quiet" })));
    assert.equal(made, { seq: 3, label: "quiet" });
    let requested = "";
    const agent = ok(await served.connect({ role: "agent", source, secret, onCheckpointRequested: (l) => (requested = l) }));
    const asked = run1(reader.query({ _tag: "Checkpoint", source, label: "busy" }));
    assert.ok(await until(() => requested === "busy"));
    const mark = Event.stamp({ source, seq: 4, at: 5000 }, { _tag: "CheckpointMarked", label: "busy" });
    ok(await run1(agent.send({ _tag: "Append", events: [mark] })));
    assert.equal(ok(await asked), [{ seq: 4, label: "busy" }]);
    await Effect.runPromise(agent.close());
    await Effect.runPromise(reader.close());
  });

  test("chunks sent ahead in PutChunks let a large event go without its bytes; a corrupt chunk is refused", async () => {
    let closed = "";
    const agent = ok(await served.connect({ role: "agent", source, secret, onClose: (r) => (closed = r) }));
    const next = agent.welcome.head!.seq + 1;
    const big = created(source, "big.txt", "large content ".repeat(5000), next);
    const chunks = Event.chunksOf(big);
    ok(await run1(agent.send({ _tag: "PutChunks", chunks: [...chunks] })));
    ok(await run1(agent.send({ _tag: "Append", events: [Event.withoutChunks(big)] })));
    const [head] = ok(await run1(agent.query({ _tag: "Head", source })));
    assert.is((head as { head: { seq: number } }).head.seq, next);
    const bad = { digest: chunks[0]!.digest, bytes: new Uint8Array([1, 2, 3]) };
    await run1(agent.send({ _tag: "PutChunks", chunks: [bad] }));
    assert.ok(await until(() => closed !== ""));
    assert.match(closed, /do not match its digest/);
  });

  test("Held and Signatures answer for the chunks the store holds; a chunk sent as a delta is rebuilt; a wrong one is refused", async () => {
    let closed = "";
    const agent = ok(await served.connect({ role: "agent", source, secret, onClose: (r) => (closed = r) }));
    let next = agent.welcome.head!.seq + 1;
    const text = Array.from({ length: 150 }, (_, i) => `line ${i}: ${(i * 7919) % 1000} ${"abcdefghij".slice(i % 10)}\n`).join("");
    const first = fileEvent("delta-a.txt", text, next++);
    ok(await run1(agent.send({ _tag: "Append", events: [first] })));
    const base = Event.chunksOf(first)[0]!;
    const absent = "00".repeat(32);
    const [held] = ok(await run1(agent.query({ _tag: "Held", digests: [absent, base.digest] })));
    assert.equal(held, [1]);
    const [reply] = ok(await run1(agent.query({ _tag: "Signatures", digests: [base.digest, absent], probes: [[], []] })));
    const [signature, none] = ok(await run1(Client.decodeResult(Protocol.Signatures, reply)));
    assert.is(none, null);
    assert.is(signature!.sizes.reduce((a, b) => a + b, 0), base.bytes.length);
    const probed = async (probes: Array<string>) =>
      ok(await run1(Client.decodeResult(Protocol.Signatures, ok(await run1(agent.query({ _tag: "Signatures", digests: [base.digest], probes: [probes] })))[0])))[0];
    assert.is(await probed(["0123456789abcdef"]), null, "a base that shares no probed piece sends no signature");
    assert.ok((await probed(["0123456789abcdef", Delta.pieceHashes(signature!)[3]!])) !== null, "one shared piece is enough");
    const second = fileEvent("delta-b.txt", text.replace("line 70:", "LINE 70:"), next++);
    const target = Event.chunksOf(second)[0]!;
    const delta = Delta.make(target.bytes, [{ digest: base.digest, signature: signature! }]);
    assert.ok(delta.literal.length < target.bytes.length / 3, `${delta.literal.length} literal bytes of ${target.bytes.length}`);
    ok(await run1(agent.send({ _tag: "Append", events: [{ ...second, chunks: [{ digest: target.digest, delta }] }] })));
    const [stored] = ok(await run1(agent.query({ _tag: "Chunks", digests: [target.digest] })));
    assert.equal([...(stored as ReadonlyArray<readonly [string, Uint8Array]>)[0]![1]], [...target.bytes]);
    const third = fileEvent("delta-c.txt", `${text}more`, next++);
    await run1(agent.send({ _tag: "Append", events: [{ ...third, chunks: [{ digest: Event.chunksOf(third)[0]!.digest, delta }] }] }));
    assert.ok(await until(() => closed !== ""));
    assert.match(closed, /do not match its digest/);
    assert.is((await served.store.head(source))?.seq, next - 2);
  });

  test("Signatures for chunks the store holds are answered beside an append being applied, ahead of its Ack", async () => {
    const acks: Array<number> = [];
    const agent = ok(await served.connect({ role: "agent", source, secret, onAck: (seq) => acks.push(seq) }));
    let next = agent.welcome.head!.seq + 1;
    const first = fileEvent("beside/base.txt", "a base chunk to sign\n".repeat(300), next++);
    ok(await run1(agent.send({ _tag: "Append", events: [first] })));
    assert.ok(await until(() => acks.includes(next - 1)));
    const base = Event.chunksOf(first)[0]!;
    // Two thousand new files: an append that takes the store tens of milliseconds.
    const many = Array.from({ length: 2000 }, (_, i) => fileEvent(`beside/${String(i).padStart(4, "0")}.txt`, `file ${i}\n`.repeat(300), next++));
    ok(await run1(agent.send({ _tag: "Append", events: many })));
    const [reply] = ok(await run1(agent.query({ _tag: "Signatures", digests: [base.digest], probes: [[]] })));
    assert.equal(acks, [next - many.length - 1], "answered before the append was acknowledged");
    assert.is(ok(await run1(Client.decodeResult(Protocol.Signatures, reply)))[0]!.sizes.reduce((a, b) => a + b, 0), base.bytes.length);
    assert.ok(await until(() => acks.includes(next - 1)), "the append is acknowledged after");
    await Effect.runPromise(agent.close());
  });

  test("Leaves answers several ranges at once, each as Metadata without manifests would", async () => {
    const agent = ok(await served.connect({ role: "agent", source, secret }));
    let next = agent.welcome.head!.seq + 1;
    const events = ["leaves/a", "leaves/b", "leaves/c", "leaves/d"].map((p) => fileEvent(p, `content of ${p}`, next++));
    ok(await run1(agent.send({ _tag: "Append", events })));
    const ranges = [{ gte: "leaves/a", lt: "leaves/c" }, { gte: "leaves/d", lt: "leaves/e" }, { gte: "leaves/x", lt: null }];
    const [reply] = ok(await run1(agent.query({ _tag: "Leaves", source, ranges, limit: 1 })));
    const pages = ok(await run1(Client.decodeResult(Protocol.LeafPages, reply)));
    for (const [k, range] of ranges.entries()) {
      const [one] = ok(await run1(agent.query({ _tag: "Metadata", source, range, limit: 1, manifests: false })));
      assert.equal(pages[k], ok(await run1(Client.decodeResult(Protocol.MetadataPage, one))));
    }
    assert.equal(pages.map((p) => p.entries.map(([path]) => path)), [["leaves/a"], ["leaves/d"], []]);
    assert.equal(pages.map((p) => p.next), ["leaves/b", null, null]);
    assert.ok(pages.every((p) => p.entries.every(([, k]) => k.manifest.length === 0)));
    await Effect.runPromise(agent.close());
  });

  test("a manifest sent as kept prefix and suffix is rebuilt from the version it replaces; one that rebuilds another version is refused", async () => {
    let closed = "";
    const agent = ok(await served.connect({ role: "agent", source, secret, onClose: (r) => (closed = r) }));
    let next = agent.welcome.head!.seq + 1;
    const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} ${i} ${"x".repeat(i % 50)}\n`).join("");
    const params = { min: 64, avg: 128, max: 512 };
    const version = (text: string, base: Event.ItemCreated["base"], seq: number): Event.ContentEvent => {
      const { manifest, chunks } = Manifest.build(new TextEncoder().encode(text), params, sha256);
      const meta = { type: "file", size: Manifest.size(manifest), mode: 0o644, mtimeMs: 1000, digest: Manifest.contentDigest(manifest, sha256), linkTarget: null } as const;
      const data = [...chunks].map(([digest, bytes]) => ({ digest, bytes }));
      return Event.stamp({ source, seq, at: seq }, { _tag: base === null ? "ItemCreated" : "ItemWritten", path: "long.txt" as ItemPath, meta, manifest, chunks: data, base, origin: "live", ...(base === null ? {} : { ranges: [] }) } as Event.EventBody) as Event.ContentEvent;
    };
    const text = lines(300, "row");
    const first = version(text, null, next++);
    ok(await run1(agent.send({ _tag: "Append", events: [first] })));
    const appended = version(`${text}${lines(20, "tail")}`, { type: "file", digest: first.meta.digest! }, next++);
    let prefix = 0;
    while (appended.manifest[prefix]?.digest === first.manifest[prefix]?.digest) prefix++;
    assert.ok(prefix > 8, `${prefix} chunks kept`);
    const sent = { ...appended, manifest: { prefix, suffix: 0, middle: appended.manifest.slice(prefix) } };
    ok(await run1(agent.send({ _tag: "Append", events: [sent] })));
    const [items] = ok(await run1(agent.query({ _tag: "Items", source, paths: ["long.txt"] })));
    assert.equal((items as ReadonlyArray<readonly [string, { manifest: unknown }]>)[0]![1].manifest, appended.manifest);
    // A version moved earlier in the same append keeps its manifest under its new path.
    const moved = Event.stamp({ source, seq: next++, at: 1 }, { _tag: "ItemRenamed", from: "long.txt" as ItemPath, path: "moved.txt" as ItemPath, meta: appended.meta, base: { type: "file", digest: appended.meta.digest! }, targetBase: null, origin: "resync" });
    const grown = { ...version(`${text}${lines(20, "tail")}${lines(5, "end")}`, { type: "file", digest: appended.meta.digest! }, next++), path: "moved.txt" as ItemPath };
    let kept = 0;
    while (grown.manifest[kept]?.digest === appended.manifest[kept]?.digest) kept++;
    ok(await run1(agent.send({ _tag: "Append", events: [moved, { ...grown, manifest: { prefix: kept, suffix: 0, middle: grown.manifest.slice(kept) } }] })));
    const [after] = ok(await run1(agent.query({ _tag: "Items", source, paths: ["moved.txt", "long.txt"] })));
    const found = after as ReadonlyArray<readonly [string, { manifest: unknown } | null]>;
    assert.equal(found[0]![1]!.manifest, grown.manifest);
    assert.is(found[1]![1], null);
    const again = version(`${text}${lines(30, "more")}`, { type: "file", digest: grown.meta.digest! }, next++);
    await run1(agent.send({ _tag: "Append", events: [{ ...again, path: "moved.txt" as ItemPath, manifest: { prefix: prefix - 1, suffix: 0, middle: again.manifest.slice(prefix) } }] }));
    assert.ok(await until(() => closed !== ""));
    assert.match(closed, /rebuilds a different version/);
    assert.is((await served.store.head(source))?.seq, next - 2);
  });

  test("garbage, an oversize length, no hello in time, a stalled frame: that connection closes, the store is untouched", async () => {
    const before = (await served.store.head(source))?.seq;
    const huge = new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    assert.ok(await served.raw(huge, 3000), "an oversize length closes the connection");
    const badJson = Frame.encode(new Uint8Array([0, 0, 0, 3, 0x7b, 0x7b, 0x7b]));
    assert.ok(await served.raw(badJson, 3000), "a malformed header closes the connection");
    const wrongShape = Frame.encode(Envelope.encode({ _tag: "Append", events: [] }));
    assert.ok(await served.raw(wrongShape, 3000), "an append before the hello closes the connection");
    assert.ok(await served.raw(new Uint8Array(0), 3000), "no hello within the limit closes the connection");
    assert.ok(await served.raw(new Uint8Array([0, 0, 0, 100, 1, 2]), 3000), "a frame stalled half-way closes the connection");
    const reader = ok(await served.connect({ role: "reader", source: null, secret }));
    assert.ok(E.isRight(await run1(reader.query({ _tag: "Sources" }))), "other clients are served");
    await Effect.runPromise(reader.close());
    assert.is((await served.store.head(source))?.seq, before);
  });

  test("law: random bytes never crash the server nor write anything", async () => {
    const before = JSON.stringify(await served.store.head(source));
    await check(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(), async (junk, framed) => {
        await served.raw(framed ? Frame.encode(junk) : junk, 20);
        return true;
      }),
    );
    const reader = ok(await served.connect({ role: "reader", source: null, secret }));
    await Effect.runPromise(reader.close());
    assert.is(JSON.stringify(await served.store.head(source)), before);
  });

  test.run();
};
