// A store that stalls (stopped, or a network that drops everything) while the agent asks it about a
// live change, over real TCP through a relay that can stall: the agent gives the connection up when
// the store's heartbeat stops, and the change it was deciding is decided again after the blackout,
// with the changes made meanwhile; a checkpoint asked for meanwhile is marked after them. The
// periodic scan is an hour away, so only the resync can bring them.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server as NetServer, type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Agent from "../../adapters/agent/Agent.ts";
import * as Server from "../../adapters/server/Server.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import type { SourceId } from "../../core/Codecs.ts";
import * as Store from "../../store/Store.ts";
import { eventually, storedFiles } from "./syncing.ts";

const source = "stalled" as SourceId;

/** A TCP relay to `port` on 127.0.0.1 whose open connections can be stalled: nothing more passes either way on them. */
const relay = async (port: number) => {
  const open = new Set<readonly [Socket, Socket]>();
  const stalled = new WeakSet<Socket>();
  const server: NetServer = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    const pair = [client, upstream] as const;
    open.add(pair);
    client.on("data", (d) => stalled.has(client) || upstream.write(d));
    upstream.on("data", (d) => stalled.has(client) || client.write(d));
    const end = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    /** Stalls the connections open now (later ones pass); the function returned ends them. */
    stall: () => {
      const stuck = [...open];
      for (const [client] of stuck) stalled.add(client);
      return () => {
        for (const [a, b] of stuck) (a.destroy(), b.destroy());
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

test("a live change being decided when the store stalls is decided after the blackout, with the changes made meanwhile and a checkpoint after them", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-stalled-"));
  const root = join(work, "tree");
  await mkdir(root);
  await writeFile(join(root, "a"), "alpha");
  const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
  const server = await Server.start({ store, secret: null, listen: { host: "127.0.0.1", port: 0 } });
  const through = await relay(Number(server.address.split(":")[1]));
  const lines: Array<string> = [];
  const agent = await Agent.start({ root, source, store: through.address, secret: null, spoolDir: join(work, "spool"), watch: false, scanIntervalMs: 3_600_000, heartbeatMs: 200, log: (l) => lines.push(l) });
  const files = async () => Object.keys(await storedFiles(store, source));
  const until = async (want: ReadonlyArray<string>) => {
    await eventually(async () => JSON.stringify(await files()) === JSON.stringify(want) && agent.progress().unacknowledged === 0);
    return files();
  };
  try {
    assert.equal(await until(["a"]), ["a"]);
    const resume = through.stall();
    await writeFile(join(root, "first"), "asked about while the store stalled");
    agent.notify("first");
    await new Promise((r) => setTimeout(r, 100));
    await writeFile(join(root, "second"), "written while the store stalled");
    agent.notify("second");
    const checkpoint = agent.checkpoint("after both");
    // Settled by the agent's stop if a check below fails first: not left unhandled.
    checkpoint.catch(() => undefined);
    await eventually(() => lines.some((l) => l.includes("no heartbeat")), 10_000);
    assert.ok(lines.some((l) => l.includes("no heartbeat")), lines.join("\n"));
    resume();
    assert.equal(await until(["a", "first", "second"]), ["a", "first", "second"], lines.join("\n"));
    const seq = await checkpoint;
    const history = [];
    for await (const e of store.log(source, 1)) history.push(e);
    const marked = history.find((e) => e._tag === "CheckpointMarked");
    assert.is(marked?.seq, seq);
    const created = history.filter((e) => e._tag === "ItemCreated" && e.path !== "a").map((e) => e.seq);
    assert.ok(created.every((s) => s < seq), `the checkpoint (${seq}) comes after both changes (${created})`);
  } finally {
    await agent.stop();
    await through.close();
    await server.stop();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
