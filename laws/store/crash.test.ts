// Crash test: a child process appends to a LevelDB store in a loop and is killed with SIGKILL at
// random moments; after each kill the store reopens with no hole in its log, projections equal to a
// rebuild, and every acknowledged append present.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sha256 } from "../../adapters/Sha256.ts";
import * as SortedMap from "../../core/SortedMap.ts";
import * as Store from "../../store/Store.ts";
import * as Model from "../core/model.ts";

const child = fileURLToPath(new URL("./crash-child.ts", import.meta.url));

/** Runs the child until `killAfterMs` past its first acknowledgement, then SIGKILLs it; resolves to the last acked seq. */
const runAndKill = (dir: string, killAfterMs: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, dir], { stdio: ["ignore", "pipe", "pipe"] });
    let acked = 0;
    let errors = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    proc.stdout.setEncoding("utf8").on("data", (text: string) => {
      for (const m of text.matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
      timer ??= setTimeout(() => proc.kill("SIGKILL"), killAfterMs);
    });
    proc.stderr.setEncoding("utf8").on("data", (t: string) => (errors += t));
    proc.on("exit", (code, signal) => {
      clearTimeout(guard);
      if (timer !== undefined) clearTimeout(timer);
      if (signal === "SIGKILL" && acked > 0) resolve(acked);
      else reject(new Error(`child ended with ${code ?? signal} after ${acked} acks: ${errors}`));
    });
  });

test("SIGKILL at random moments loses no acknowledged append and leaves no hole", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tidemark-crash-"));
  try {
    let lastAcked = 0;
    for (let round = 0; round < 4; round++) {
      lastAcked = await runAndKill(dir, 40 + Math.floor(Math.random() * 300));
      const store = await Store.openClassic(dir, { hash: sha256 });
      try {
        const head = await store.head(Model.source);
        assert.ok(head !== undefined && head.seq >= lastAcked, `head ${head?.seq} < acked ${lastAcked}`);
        let expected = 1;
        for await (const e of store.log(Model.source)) assert.is(e.seq, expected++);
        assert.is(expected - 1, head!.seq);
        const rebuilt = await store.replay(Model.source);
        const live: Array<unknown> = [];
        for await (const pair of store.catalogue(Model.source)) live.push(pair);
        assert.equal(live, [...SortedMap.entries(rebuilt.catalogue.items)]);
        assert.equal(head, rebuilt.head);
      } finally {
        await store.close();
      }
    }
    assert.ok(lastAcked > 4, `only ${lastAcked} events acknowledged`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
