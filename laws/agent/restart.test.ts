// An agent restarted after changes made while it was away, end to end over TCP into a store on disk:
// small in-place edits travel as deltas (not whole chunks), moved files send no content, and a
// comparison that fetches leaf metadata ahead stays right when whole directories were deleted or
// moved; the store's tree then equals the host's byte for byte.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Server from "../../adapters/server/Server.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import type { SourceId } from "../../core/Codecs.ts";
import * as Restore from "../../store/Restore.ts";
import * as Store from "../../store/Store.ts";
import { contents, syncOnce } from "./syncing.ts";

const source = "outbound" as SourceId;


const editInPlace = async (file: string, at: number, bytes: Uint8Array): Promise<void> => {
  const h = await open(file, "r+");
  await h.write(bytes, 0, bytes.length, at);
  await h.close();
};

test("after a restart, 100-byte edits cost about a kilobyte each and a moved file costs no content", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-outbound-"));
  const root = join(work, "tree");
  await mkdir(join(root, "a"), { recursive: true });
  await mkdir(join(root, "b"));
  const files = { big: join(root, "a", "big.bin"), small: join(root, "a", "small.bin"), moved: join(root, "a", "moved.bin") };
  await writeFile(files.big, randomBytes(300 * 1024));
  await writeFile(files.small, randomBytes(6000));
  await writeFile(files.moved, randomBytes(200 * 1024));
  const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
  const server = await Server.start({ store, secret: null, listen: { host: "127.0.0.1", port: 0 } });
  try {
    const first = await syncOnce(root, server.address, join(work, "spool"), source);
    assert.ok(first >= 500 * 1024, `the first upload sends the content (${first} bytes)`);
    await editInPlace(files.big, 150_000, randomBytes(100));
    await editInPlace(files.small, 3000, randomBytes(100));
    await rename(files.moved, join(root, "b", "moved.bin"));
    const second = await syncOnce(root, server.address, join(work, "spool"), source);
    assert.ok(second < 6 * 1024, `two 100-byte edits and a move sent ${second} content bytes`);
    const restored = join(work, "restored");
    const head = await store.head(source);
    const out = await Restore.restore(store, source, { seq: head!.seq }, restored);
    assert.ok(out._tag === "Right");
    for (const rel of ["a/big.bin", "a/small.bin", "b/moved.bin"]) {
      assert.ok(Buffer.compare(await readFile(join(root, rel)), await readFile(join(restored, rel))) === 0, `${rel} restored byte for byte`);
    }
  } finally {
    await server.stop();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
});


test("directories deleted and moved while the agent was away: the comparison converges and restores exactly", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-restart-"));
  const root = join(work, "tree");
  for (let d = 0; d < 40; d++) {
    await mkdir(join(root, `d${String(d).padStart(2, "0")}`, "sub"), { recursive: true });
    const files = d === 5 || d === 6 ? 80 : 10; // these two span several of the comparison's small ranges
    for (let f = 0; f < files; f++) await writeFile(join(root, `d${String(d).padStart(2, "0")}`, f % 2 === 0 ? "" : "sub", `f${f}.txt`), `dir ${d} file ${f}\n`);
  }
  const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
  const server = await Server.start({ store, secret: null, listen: { host: "127.0.0.1", port: 0 } });
  try {
    await syncOnce(root, server.address, join(work, "spool"), source);
    await rm(join(root, "d05"), { recursive: true });
    await rename(join(root, "d06"), join(root, "d30-moved"));
    await rm(join(root, "d12", "sub"), { recursive: true });
    for (const d of ["d07", "d20", "d33"]) await writeFile(join(root, d, "f1.txt"), `changed ${d}\n`);
    await writeFile(join(root, "d05"), "a file where a directory was\n");
    await syncOnce(root, server.address, join(work, "spool"), source);
    const restored = join(work, "restored");
    const out = await Restore.restore(store, source, { seq: (await store.head(source))!.seq }, restored);
    assert.ok(out._tag === "Right");
    assert.equal(await contents(restored), await contents(root));
  } finally {
    await server.stop();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
