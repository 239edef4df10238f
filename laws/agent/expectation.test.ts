// A restarted agent checks what its stat cache remembers of the store against the store's fingerprint
// of the whole tree: when they agree, that one answer is all it asks, and only the files whose stat
// data changed (or are new, or gone) are compared; when the store changed behind the agent's back,
// the fingerprints differ and the full comparison finds the difference. End to end over TCP (through
// a byte-counting relay) into a store on disk; the store's tree then equals the host's byte for byte.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Server from "../../adapters/server/Server.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Relay from "../../bench/Relay.ts";
import type { SourceId } from "../../core/Codecs.ts";
import * as Restore from "../../store/Restore.ts";
import * as Store from "../../store/Store.ts";
import { contents, syncOnce } from "./syncing.ts";

const source = "expected" as SourceId;



/** A tree of 2,000 small files in 20 directories. */
const makeTree = async (root: string): Promise<void> => {
  for (let d = 0; d < 20; d++) {
    await mkdir(join(root, `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) await writeFile(join(root, `d${d}`, `f${f}.txt`), `directory ${d}, file ${f}: ${"x".repeat(200 + f)}\n`);
  }
};

const withStore = async (name: string, body: (work: string, store: Store.Store, server: Server.Running) => Promise<void>): Promise<void> => {
  const work = await mkdtemp(join(tmpdir(), `tidemark-${name}-`));
  const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
  const server = await Server.start({ store, secret: null, listen: { host: "127.0.0.1", port: 0 } });
  try {
    await body(work, store, server);
  } finally {
    await server.stop();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
};

const restoresExactly = async (store: Store.Store, root: string, into: string): Promise<void> => {
  const out = await Restore.restore(store, source, { seq: (await store.head(source))!.seq }, into);
  assert.ok(out._tag === "Right");
  assert.equal(await contents(into), await contents(root));
};

test("the store holds what the stat cache remembers: one changed file in 2,000 costs under 1,100 bytes both ways, deletions and new files too", async () => {
  await withStore("expected", async (work, store, server) => {
    const root = join(work, "tree");
    await makeTree(root);
    const port = Number(server.address.split(":").pop());
    const relay = await Relay.start(port);
    const address = `127.0.0.1:${relay.port}`;
    try {
      await syncOnce(root, address, join(work, "spool"), source);
      await writeFile(join(root, "d7", "f42.txt"), "changed\n");
      relay.reset();
      await syncOnce(root, address, join(work, "spool"), source);
      const { up, down } = relay.counts();
      // The full comparison's descent alone (two levels of 16 fingerprints and a leaf) costs more.
      assert.ok(up + down < 1100, `one small change cost ${up} bytes up and ${down} down`);
      await restoresExactly(store, root, join(work, "restored-1"));

      await rm(join(root, "d3", "f5.txt"));
      await rm(join(root, "d19", "f99.txt"));
      await writeFile(join(root, "d0", "new.txt"), "new\n");
      await writeFile(join(root, "d11", "f1.txt"), "rewritten\n");
      await syncOnce(root, address, join(work, "spool"), source);
      await restoresExactly(store, root, join(work, "restored-2"));
    } finally {
      await relay.close();
    }
  });
});

test("a file the store lost behind the agent's back is sent again: the stat cache's memory is checked, not trusted", async () => {
  await withStore("lost", async (work, store, server) => {
    const root = join(work, "tree");
    await makeTree(root);
    await syncOnce(root, server.address, join(work, "spool"), source);
    const lost = "d9/f9.txt";
    const [[, held]] = (await store.items(source, [lost])) as [readonly [string, { meta: { type: string; digest: string | null } } | null]];
    assert.ok(held !== null, "the store holds the file before it is lost");
    const head = (await store.head(source))!;
    const deleted = { _tag: "ItemDeleted", path: lost, base: { type: held!.meta.type, digest: held!.meta.digest }, origin: "resync", source, seq: head.seq + 1, at: head.at + 1 };
    assert.ok((await store.append(source, [deleted]))._tag === "Right");
    await writeFile(join(root, "d2", "f2.txt"), "changed while the store lost another\n");
    await syncOnce(root, server.address, join(work, "spool"), source);
    await restoresExactly(store, root, join(work, "restored"));
  });
});

test.run();
