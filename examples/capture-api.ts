/**
 * Example: a program that reports its own writes through the capture API instead of being watched.
 * The store server and the agent run inside this process as a library; the program writes pages at
 * offsets (the exact byte ranges go to the store), commits, marks an application-consistent
 * checkpoint, then restores the tree as of that checkpoint next to the live one.
 *
 * Node:  node --import tsx examples/capture-api.ts
 * Deno:  node_modules/.bin/deno run --allow-all examples/capture-api.ts
 *
 * @module
 */
import { Effect } from "effect";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import * as Agent from "../adapters/agent/Agent.ts";
import * as Capture from "../adapters/agent/Capture.ts";
import * as Server from "../adapters/server/Server.ts";
import { sha256 } from "../adapters/Sha256.ts";
import * as Client from "../adapters/wire/Client.ts";
import type { SourceId } from "../core/Codecs.ts";
import { Restore, Store } from "../store/index.ts";

const work = await mkdtemp(join(tmpdir(), "tidemark-capture-"));
const root = join(work, "app");
await mkdir(root);
const source = "app" as SourceId;

const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
const server = await Server.start({ store, secret: null, listen: { host: "127.0.0.1", port: 0 } });
const agent = await Agent.start({ root, source, store: server.address, secret: null, spoolDir: join(work, "spool"), watch: false });
const fs = Capture.make(agent, root);

/** A 4 KiB page that starts with `text`. */
const page = (text: string): Uint8Array => {
  const bytes = new Uint8Array(4096).fill(46);
  bytes.set(new TextEncoder().encode(text));
  return bytes;
};
await fs.mkdir("db");
await fs.writeFile("db/pages", new Uint8Array(4 * 4096));
for (let n = 0; n < 4; n++) await fs.write("db/pages", page(`page ${n} v1`), n * 4096);
await fs.appendFile("db/journal", "commit 1\n");
const first = await fs.checkpoint("commit-1");
console.log(`checkpoint commit-1 at seq ${first}`);

await fs.write("db/pages", page("page 2 v2"), 2 * 4096);
await fs.appendFile("db/journal", "commit 2\n");
await fs.fsync();
console.log("commit 2 is durable in the store");

const reader = await Effect.runPromise(Client.connect({ address: server.address, role: "reader", source: null, secret: null }));
const [history] = await Effect.runPromise(reader.query({ _tag: "History", source, path: "db/pages" }));
console.log(`db/pages versions: ${(history as ReadonlyArray<{ seq: number; kind: string }>).map((v) => `${v.seq} ${v.kind}`).join(", ")}`);
await Effect.runPromise(reader.close());

await agent.stop();
await server.stop();
const reopened = await Store.openClassic(join(work, "store"), { hash: sha256 });
const target = join(work, "at-commit-1");
await Restore.restore(reopened, source, { seq: first }, target);
const journal = await readFile(join(target, "db", "journal"), "utf8");
const pages = await readFile(join(target, "db", "pages"));
console.log(`restored as of commit-1: journal ${JSON.stringify(journal)}, page 2 starts ${JSON.stringify(new TextDecoder().decode(pages.subarray(2 * 4096, 2 * 4096 + 10)))}`);
await reopened.close();
await rm(work, { recursive: true, force: true });
process.exit(0);
