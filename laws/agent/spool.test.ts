// The agent's spool on real files: events written (chunk bytes included, hashed and written from
// where they lie) read back exactly after a reopen; a torn tail — a crash mid-write — is dropped with
// the events before it kept; a damaged record (header or chunk bytes) makes the whole spool count as
// lost; an earlier agent's records are still read.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Spool from "../../adapters/agent/Spool.ts";
import { created, identity } from "./spooled.ts";
import type * as Event from "../../core/Event.ts";
import * as Envelope from "../../core/Envelope.ts";
import { inTempDir } from "../tempDir.ts";

const withSpool = (body: (dir: string) => Promise<void>): Promise<void> => inTempDir("tidemark-spool-", body);

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

test("a log the kernel refuses to grow is emptied, not left torn; its events stay pending, and it is written again once all are acknowledged", () =>
  withSpool(async (dir) => {
    // 200 blocks of 1 KiB: two of the fixture's ~70 KB events fit, the third is refused (EFBIG), as a full disk refuses (ENOSPC).
    const fixture = fileURLToPath(new URL("../fixtures/spool-limited.ts", import.meta.url));
    const ran = spawnSync("bash", ["-c", 'ulimit -f 200 && exec "$@"', "bash", process.execPath, "--import", "tsx", fixture, dir, "5"], { encoding: "utf8", timeout: 60_000 });
    assert.is(ran.status, 0, ran.stderr);
    const seen = JSON.parse(ran.stdout) as { logs: Array<string>; sizes: Array<number>; pendingWhileFull: number; sizeAfter: number };
    assert.is(seen.logs.length, 1, seen.logs.join("\n"));
    assert.match(seen.logs[0]!, /cannot write the spool .*File too large.*unspooled/i);
    assert.ok(seen.sizes[0]! > 70_000 && seen.sizes[1]! > seen.sizes[0]!, `the first writes landed: ${seen.sizes}`);
    assert.equal(seen.sizes.slice(2), [0, 0, 0], "emptied at the refused write, and left empty");
    assert.is(seen.pendingWhileFull, 5);
    assert.ok(seen.sizeAfter > 0, "written again once everything was acknowledged");
    const again = await Spool.open(dir, identity);
    assert.is(again.damaged, false);
    assert.equal(again.pending().map((e) => e.seq), [6]);
    await again.close();
  }));

test("a spool removed while in use is made again at the next acknowledgement, and keeps what comes after", () =>
  withSpool(async (dir) => {
    // Seen by hand: `rm -r` of a running agent's spool, and the agent died at its next acknowledgement.
    const spoolDir = join(dir, "spool");
    const logs: Array<string> = [];
    const spool = await Spool.open(spoolDir, identity, (line) => logs.push(line));
    spool.add([created(1, "a", 1)]);
    await spool.write();
    await rm(spoolDir, { recursive: true, force: true });
    await spool.acked(1);
    assert.match(logs.join("\n"), /was removed while in use; it is made again/);
    spool.add([created(2, "b", 1)]);
    await spool.write();
    await spool.close();
    const reopened = await Spool.open(spoolDir, identity);
    assert.equal(reopened.pending().map((e) => e.seq), [2], "the event after the removal is spooled again");
    assert.is(reopened.damaged, false);
    await reopened.close();
  }));

test.run();
