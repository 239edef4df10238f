// A seeded soak through the command line: bursts of random file-system operations of every kind the
// agent must follow (edits, appends, truncations, large files with bytes inserted, renames over
// other files, swaps, rotated logs, moves and renames of directories, `rm -r`, directories moved out
// of the tree and back, symbolic and hard links, mode changes, a file turned into a directory,
// names with spaces and other scripts) while `tidemark protect` runs, with the agent and the store
// killed with SIGKILL on a fixed schedule (and changes made while the agent is down). At quiet
// points the tree must be in sync within seconds, and is marked with a checkpoint; at the end a
// restore of the latest state, and of each quiet point by its sequence number, its time and its
// checkpoint, must equal the tree as it was then.
// TIDEMARK_E2E_SEED picks another run (a failure prints its seed and keeps its directory, with a
// journal of the operations).
import { appendFile, chmod, link, mkdir, mkdtemp, open, readdir, readFile, rename, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bytes, differences, random, restoredTree, type Running, type Runtime, snapshot, type Snapshot, start, startStore, stop, tidemark, until } from "./harness.ts";

const seed = Number(process.env["TIDEMARK_E2E_SEED"] ?? 10);
/** TIDEMARK_E2E_AGENT=deno runs the agent under Deno (the store stays under Node). */
const agentRuntime: Runtime = process.env["TIDEMARK_E2E_AGENT"] === "deno" ? "deno" : "node";
const rounds = 24;
// Choices and content come from streams of their own: content drawn from the choices' stream would
// consume it by amounts that depend on it, and runs of different seeds would soon fall into step.
const rnd = random(seed);
const content = random(seed + 1_000_003);
const filler = (n: number): Uint8Array => bytes(content, n);
let counter = 0;
const fresh = (prefix: string): string => `${prefix}${counter++}`;
/** What the operations did (each: its number, the items it picked), written beside a failed run's tree. */
const journal: Array<string> = [];
let picked: Array<string> = [];
const pick = <A>(xs: ReadonlyArray<A>): A | undefined => {
  const x = xs[Math.floor(rnd() * xs.length)];
  if (typeof x === "string") picked.push(x);
  return x;
};

/** One run's directories. */
interface Run {
  readonly tree: string;
  readonly outside: string;
}

/** Whether a name was made by one of the last few operations (`fresh` numbers them). */
const isRecent = (path: string): boolean => Number(/(\d+)$/.exec(path)?.[1] ?? -1) >= counter - 20;

/**
 * The tree's files and directories now. Half the time the files are only those made lately, so
 * that operations meet each other's results (a link, then a write through one of its names).
 */
const entries = async (run: Run) => {
  const all = await readdir(run.tree, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = all.filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
  const recent = files.filter(isRecent);
  return {
    files: recent.length > 0 && rnd() < 0.5 ? recent : files,
    dirs: [run.tree, ...all.filter((d) => d.isDirectory()).map((d) => join(d.parentPath, d.name))],
  };
};

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The operations, each on random items of the tree as it is now. */
const operations: ReadonlyArray<(run: Run) => Promise<unknown>> = [
  async (run) => writeFile(join(pick((await entries(run)).dirs)!, fresh("n")), filler(Math.floor(rnd() * 20_000))),
  async (run) => {
    const f = pick((await entries(run)).files);
    if (f === undefined) return;
    const h = await open(f, "r+");
    await h.write(filler(50), 0, 50, Math.floor(rnd() * 500));
    await h.close();
  },
  async (run) => {
    const f = pick((await entries(run)).files);
    if (f !== undefined) await appendFile(f, filler(3000));
  },
  async (run) => {
    const f = pick((await entries(run)).files);
    if (f !== undefined) await truncate(f, 7);
  },
  async (run) => {
    const f = pick((await entries(run)).files);
    if (f !== undefined) await rm(f);
  },
  async (run) => {
    const { files, dirs } = await entries(run);
    const f = pick(files);
    if (f !== undefined) await rename(f, join(pick(dirs)!, fresh("m")));
  },
  async (run) => {
    const { files } = await entries(run);
    const [a, b] = [pick(files), pick(files)];
    if (a !== undefined && b !== undefined && a !== b) await rename(a, b);
  },
  async (run) => {
    const dir = join(pick((await entries(run)).dirs)!, fresh("D"), "in");
    await mkdir(dir, { recursive: true });
    for (let k = 0; k < 1 + Math.floor(rnd() * 30); k++) await writeFile(join(dir, `x${k}`), filler(2000));
  },
  async (run) => {
    const { dirs } = await entries(run);
    const [d, to] = [pick(dirs.slice(1)), pick(dirs)];
    if (d !== undefined && to !== undefined && !`${to}/`.startsWith(`${d}/`)) await rename(d, join(to, fresh("R")));
  },
  async (run) => {
    const d = pick((await entries(run)).dirs.slice(1));
    if (d !== undefined) await rename(d, join(dirname(d), fresh("S")));
  },
  async (run) => {
    const d = pick((await entries(run)).dirs.slice(1));
    if (d !== undefined && rnd() < 0.5) await rm(d, { recursive: true });
  },
  async (run) => {
    const { files } = await entries(run);
    const [a, b] = [pick(files), pick(files)];
    if (a === undefined || b === undefined || a === b) return;
    await rename(a, `${a}.swap`);
    await rename(b, a);
    await rename(`${a}.swap`, b);
  },
  async (run) => {
    const f = pick((await entries(run)).files);
    if (f === undefined) return;
    await rename(f, `${f}.1`);
    await writeFile(f, "a new log\n");
  },
  async (run) => symlink(fresh("target-"), join(pick((await entries(run)).dirs)!, fresh("l"))),
  async (run) => {
    const { files, dirs } = await entries(run);
    const f = pick(files);
    if (f !== undefined) await link(f, join(pick(dirs)!, fresh("h")));
  },
  async (run) => {
    const f = pick((await entries(run)).files);
    if (f !== undefined) await chmod(f, rnd() < 0.5 ? 0o600 : 0o644);
  },
  async (run) => {
    const f = pick((await entries(run)).files);
    if (f === undefined) return;
    await rm(f);
    await mkdir(f);
    await writeFile(join(f, "inner"), "was a file\n");
  },
  async (run) => {
    const d = pick((await entries(run)).dirs.slice(1));
    if (d === undefined) return;
    const away = join(run.outside, fresh("o"));
    await rename(d, away);
    await pause(rnd() * 300);
    await rename(away, d).catch(() => undefined);
  },
  async (run) => writeFile(join(pick((await entries(run)).dirs)!, fresh("big")), filler(Math.floor((1 + rnd() * 3) * 1024 * 1024))),
  async (run) => {
    const f = pick((await entries(run)).files.filter((x) => x.includes("big")));
    if (f === undefined) return;
    const old = await readFile(f);
    const at = Math.floor(rnd() * old.length);
    await writeFile(f, Buffer.concat([old.subarray(0, at), filler(17), old.subarray(at)]));
  },
  async (run) => writeFile(join(pick((await entries(run)).dirs)!, `${pick(["with space ", "ünïcødé-", "日本語", "emoji😀", "quote'"])!}${counter++}`), filler(300)),
];

/** Errors a random operation may meet on a tree another operation has just changed. */
const expected = new Set(["ENOENT", "EEXIST", "ENOTDIR", "EISDIR", "ENOTEMPTY", "EINVAL"]);

const burst = async (run: Run): Promise<void> => {
  for (let i = 1 + Math.floor(rnd() * 12); i > 0; i--) {
    const op = Math.floor(rnd() * operations.length);
    picked = [];
    try {
      await operations[op]!(run);
      journal.push(`${Date.now()} op ${op} (fresh names up to ${counter}): ${picked.map((p) => p.slice(run.tree.length)).join(" ")}`);
    } catch (e) {
      journal.push(`${Date.now()} op ${op} failed (${(e as { code?: string }).code}): ${picked.map((p) => p.slice(run.tree.length)).join(" ")}`);
      if (!expected.has((e as { code?: string }).code ?? "")) throw e;
    }
    if (rnd() < 0.3) await pause(rnd() * 50);
  }
};

test(`random changes with agent and store killed on a schedule (seed ${seed}): in sync at quiet points, every restore equal`, async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-chaos-"));
  const run: Run = { tree: join(work, "tree"), outside: join(work, "outside") };
  await mkdir(run.outside);
  for (let d = 0; d < 5; d++) {
    await mkdir(join(run.tree, `d${d}`, "e"), { recursive: true });
    for (let k = 0; k < 40; k++) await writeFile(join(run.tree, `d${d}`, k % 2 === 0 ? "" : "e", `f${k}`), filler(500 + Math.floor(rnd() * 5000)));
  }
  let store = await startStore(join(work, "store"));
  const connection = ["--store", store.address, "--source", "chaos"];
  const protect = (): Running => start(["protect", run.tree, ...connection, "--spool", join(work, "spool")], agentRuntime);
  let agent = protect();
  let last = "";
  const inSync = async (ms: number): Promise<boolean> =>
    (await until(async () => {
      const v = await tidemark(["verify", run.tree, ...connection]);
      last = v.stdout.split("\n").slice(0, 6).join("\n");
      return v.code === 0;
    }, ms, 300)) === true;
  const points: Array<{ readonly seq: number; readonly at: string; readonly label: string; readonly tree: Snapshot }> = [];
  let passed = false;
  try {
    assert.ok(await inSync(30_000), `the upload: ${last}`);
    for (let r = 0; r < rounds; r++) {
      await burst(run);
      if (r % 8 === 3) {
        assert.ok(await inSync(15_000), `not in sync 15 s after round ${r}: ${last}\n${agent.output().slice(-2000)}`);
        const status = JSON.parse((await tidemark(["status", ...connection, "--json"])).stdout) as { sources: Array<{ head: { seq: number } }> };
        const at = new Date().toISOString();
        const label = `quiet-${r}`;
        const marked = await tidemark(["checkpoint", ...connection, label]);
        assert.is(marked.code, 0, marked.stderr);
        points.push({ seq: status.sources[0]!.head.seq, at, label, tree: await snapshot(run.tree) });
      } else if (r === 6 || r === 20) {
        await stop(agent, "SIGKILL");
        await burst(run);
        agent = protect();
      } else if (r === 13) {
        await stop(store, "SIGKILL");
        await burst(run);
        store = await startStore(join(work, "store"), [], store.address);
      }
      await pause(rnd() * 400);
    }
    assert.ok(await inSync(30_000), `not in sync 30 s after the last round: ${last}\n${agent.output().slice(-2000)}`);
    const restoredAs = (args: ReadonlyArray<string>): Promise<Snapshot> => restoredTree(connection, join(work, fresh("restored-")), args, 120_000);
    assert.equal(differences(await restoredAs([]), await snapshot(run.tree)), [], "the latest state");
    for (const p of points) {
      assert.equal(differences(await restoredAs(["--seq", String(p.seq)]), p.tree), [], `the tree at seq ${p.seq}`);
      assert.equal(differences(await restoredAs(["--at", p.at]), p.tree), [], `the tree at ${p.at}`);
      assert.equal(differences(await restoredAs(["--checkpoint", p.label]), p.tree), [], `the tree at checkpoint ${p.label}`);
    }
    passed = true;
  } finally {
    await stop(agent, "SIGKILL");
    await stop(store, "SIGKILL");
    if (passed) await rm(work, { recursive: true, force: true });
    else {
      await writeFile(join(work, "operations.log"), journal.join("\n") + "\n");
      console.error(`seed ${seed}: kept ${work} (the operations in operations.log)`);
    }
  }
});

test.run();
