// The agent's spool on real files: events written (chunk bytes included, hashed and written from
// where they lie) read back exactly after a reopen; a torn tail — a crash mid-write — is dropped with
// the events before it kept; a damaged record (header or chunk bytes) makes the whole spool count as
// lost; an earlier agent's records are still read.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Spool from "../../adapters/agent/Spool.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import type * as Event from "../../core/Event.ts";
import * as Digest from "../../core/Digest.ts";
import * as Envelope from "../../core/Envelope.ts";

const identity = { source: "spooled", root: "/srv/data" };

/** An event creating `path` with `chunks` chunks of random bytes (some large). */
const created = (seq: number, path: string, chunks: number): Event.Event => {
  const data = Array.from({ length: chunks }, (_, k) => new Uint8Array(randomBytes(k === 0 ? 70_000 : 300 + k)));
  const refs = data.map((bytes) => ({ digest: Digest.of(sha256, bytes), size: bytes.length }));
  const size = data.reduce((n, b) => n + b.length, 0);
  return {
    _tag: "ItemCreated",
    path,
    meta: { type: "file", size, mode: 0o644, mtimeMs: 1_700_000_000_000 + seq, digest: refs[0]?.digest ?? null, linkTarget: null },
    manifest: refs,
    chunks: refs.map((r, k) => ({ digest: r.digest, bytes: data[k]! })),
    base: null,
    origin: "live",
    source: identity.source,
    seq,
    at: 1_700_000_000_000 + seq,
  } as unknown as Event.Event;
};

const withSpool = async (body: (dir: string) => Promise<void>): Promise<void> => {
  const dir = await mkdtemp(join(tmpdir(), "tidemark-spool-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** Events as comparable values (bytes as arrays). */
const plain = (events: ReadonlyArray<Event.Event>): unknown =>
  JSON.parse(JSON.stringify(events, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));

const writeSome = async (dir: string, events: ReadonlyArray<Event.Event>): Promise<void> => {
  const spool = await Spool.open(dir, identity);
  spool.add(events.slice(0, 2));
  await spool.write();
  spool.add(events.slice(2));
  await spool.write();
  await spool.close();
};

/** Changes the log's bytes with `damage`, then checks the reopened spool counts as lost. */
const damageThenExpectLost = async (dir: string, damage: (bytes: Buffer) => void): Promise<void> => {
  const log = join(dir, "events.log");
  const bytes = await readFile(log);
  damage(bytes);
  await writeFile(log, bytes);
  const again = await Spool.open(dir, identity);
  assert.is(again.damaged, true);
  assert.equal(again.pending(), []);
  await again.close();
};

test("events written read back exactly after a reopen, chunk bytes and all", () =>
  withSpool(async (dir) => {
    const events = [created(1, "a", 3), created(2, "b/c", 1), created(3, "d", 40), created(4, "e", 0)];
    await writeSome(dir, events);
    const again = await Spool.open(dir, identity);
    assert.is(again.damaged, false);
    assert.equal(plain(again.pending()), plain(events));
    await again.close();
  }));

test("a torn tail is dropped and the events before it kept", () =>
  withSpool(async (dir) => {
    const events = [created(1, "a", 2), created(2, "b", 5), created(3, "c", 2)];
    await writeSome(dir, events);
    const log = join(dir, "events.log");
    await truncate(log, (await stat(log)).size - 100);
    const again = await Spool.open(dir, identity);
    assert.is(again.damaged, false);
    assert.equal(plain(again.pending()), plain(events.slice(0, 2)));
    await again.close();
  }));

test("a record whose bytes changed makes the spool count as lost", () =>
  withSpool(async (dir) => {
    await writeSome(dir, [created(1, "a", 2), created(2, "b", 5)]);
    await damageThenExpectLost(dir, (bytes) => (bytes[bytes.length - 10]! ^= 0xff));
  }));

test("a record whose header changed makes the spool count as lost", () =>
  withSpool(async (dir) => {
    await writeSome(dir, [created(1, "a", 2)]);
    // The path's letter, inside the hashed header.
    await damageThenExpectLost(dir, (bytes) => (bytes[bytes.indexOf(Buffer.from('"path":"a"')) + 8] = "z".charCodeAt(0)));
  }));

test("records an earlier agent wrote (the whole payload hashed) are still read", () =>
  withSpool(async (dir) => {
    const events = [created(1, "a", 3), created(2, "b", 0)];
    await writeSome(dir, []);
    const records = events.map((e) => {
      const payload = Envelope.encode(e);
      const head = new Uint8Array(36);
      new DataView(head.buffer).setUint32(0, payload.length);
      head.set(createHash("sha256").update(payload).digest(), 4);
      return Buffer.concat([head, payload]);
    });
    await writeFile(join(dir, "events.log"), Buffer.concat(records));
    const again = await Spool.open(dir, identity);
    assert.is(again.damaged, false);
    assert.equal(plain(again.pending()), plain(events));
    await again.close();
  }));

test.run();
