// An agent whose crash the store has not seen (its host gone, the connection half-open: no FIN ever
// comes, and the store would keep it for its minute of idle time), restarted with the same spool,
// through the command line: it takes over its own old connection at once, instead of being refused
// as a second writer and exiting 1. The half-open connection is made by a relay on 127.0.0.1 that
// passes bytes both ways but does not pass on the agent's side closing.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { start, startStore, stop, tidemark, until } from "./harness.ts";

/** A relay to `target` that keeps the store's side open when the agent's side closes. */
const halfOpenRelay = async (target: string): Promise<{ readonly address: string; readonly close: () => void }> => {
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  const upstreams: Array<Socket> = [];
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    upstreams.push(upstream);
    client.on("data", (b) => upstream.write(b));
    upstream.on("data", (b) => client.write(b));
    client.on("error", () => undefined);
    upstream.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port: relayPort } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${relayPort}`,
    close: () => {
      for (const u of upstreams) u.destroy();
      server.close();
    },
  };
};

test("an agent restarted after a crash the store has not seen takes over its own connection", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-takeover-"));
  const tree = join(work, "tree");
  const spool = join(work, "spool");
  await mkdir(tree);
  for (let i = 0; i < 20; i++) await writeFile(join(tree, `f${i}.txt`), `file ${i}\n`);
  const store = await startStore(join(work, "store"));
  const relay = await halfOpenRelay(store.address);
  const connection = ["--source", "takeover"];
  const verify = () => tidemark(["verify", tree, "--store", store.address, ...connection]);
  const first = start(["protect", tree, "--store", relay.address, ...connection, "--spool", spool]);
  let second: ReturnType<typeof start> | undefined;
  try {
    assert.ok(await until(async () => (await verify()).code === 0, 30_000, 300), `the upload never reached verify's exit 0\n${first.output()}`);
    await stop(first, "SIGKILL");
    second = start(["protect", tree, "--store", store.address, ...connection, "--spool", spool]);
    await writeFile(join(tree, "after.txt"), "written after the restart\n");
    const synced = await until(async () => (await verify()).code === 0 && (await tidemark(["history", "--store", store.address, ...connection, "after.txt"])).code === 0, 20_000, 300);
    assert.ok(synced, `the restarted agent never caught up\n${second.output()}`);
    assert.ok(second.child.exitCode === null && second.child.signalCode === null, `the restarted agent ended:\n${second.output()}`);
    assert.match(store.output(), /takes over takeover/);
  } finally {
    if (second !== undefined) await stop(second, "SIGKILL");
    await stop(store, "SIGKILL");
    relay.close();
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
