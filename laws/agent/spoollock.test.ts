// One agent per spool, with real processes holding the lock: a live holder is refused; a holder that
// is gone, killed but not yet reaped (a zombie), or whose pid now names another process (another
// start time) leaves a stale lock, which the next agent takes.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Spool from "../../adapters/agent/Spool.ts";
import { identity } from "./spooled.ts";

const hasProc = (() => {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
})();

/** A spool directory whose lock file holds `text`, removed afterwards. */
const withLock = async (text: string, body: (dir: string) => Promise<void>): Promise<void> => {
  const dir = await mkdtemp(join(tmpdir(), "tidemark-lock-"));
  try {
    await writeFile(join(dir, "lock"), text);
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** Opens the spool: the error's message when refused, else "opened" (and the lock now names this process). */
const tryOpen = async (dir: string): Promise<string> => {
  try {
    const spool = await Spool.open(dir, identity);
    const holder = (await readFile(join(dir, "lock"), "utf8")).split(" ")[0];
    await spool.close();
    return holder === String(process.pid) ? "opened" : `opened, but the lock names ${holder}`;
  } catch (e) {
    return (e as Error).message;
  }
};

/** A live process of ours for as long as the body runs (ended by its pid). */
const withSleeper = async (body: (pid: number) => Promise<void>): Promise<void> => {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  try {
    await body(child.pid!);
  } finally {
    process.kill(child.pid!, "SIGKILL");
  }
};

const startOf = (pid: number): string => {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  return text.slice(text.lastIndexOf(")") + 2).split(" ")[19]!;
};

test("a lock held by a live agent is refused, naming its pid", () =>
  withSleeper(async (pid) => {
    await withLock(String(pid), async (dir) => assert.match(await tryOpen(dir), `the spool ${dir} is in use by another agent (pid ${pid})`));
    if (hasProc) await withLock(`${pid} ${startOf(pid)}`, async (dir) => assert.match(await tryOpen(dir), `in use by another agent (pid ${pid})`));
  }));

test("a lock whose holder has exited is taken", async () => {
  const gone = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  await withLock(gone.stdout.trim(), async (dir) => assert.is(await tryOpen(dir), "opened"));
});

test("a lock naming this process (restarted as the same pid) or nothing readable is taken", async () => {
  await withLock(String(process.pid), async (dir) => assert.is(await tryOpen(dir), "opened"));
  await withLock("garbage", async (dir) => assert.is(await tryOpen(dir), "opened"));
});

test("a lock whose holder was killed and not yet reaped (a zombie) is taken", async () => {
  if (!hasProc) return;
  // The inner shell exits once its parent has become `sleep`, which never reaps it. (Exiting at once,
  // it was sometimes reaped by the outer shell before its `exec`: /proc had no such pid, 1 run in 20.)
  const parent = spawn("sh", ["-c", "sh -c 'sleep 0.3; exit 0' & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout!.once("data", (d) => resolve(String(d)))));
    const deadline = Date.now() + 5000;
    while (!readFileSync(`/proc/${zombie}/stat`, "utf8").includes(") Z ") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.match(readFileSync(`/proc/${zombie}/stat`, "utf8"), ") Z ");
    await withLock(String(zombie), async (dir) => assert.is(await tryOpen(dir), "opened"));
  } finally {
    process.kill(parent.pid!, "SIGKILL");
  }
});

test("a lock whose pid now names another process (another start time) is taken", async () => {
  if (!hasProc) return;
  await withSleeper(async (pid) => {
    await withLock(`${pid} ${Number(startOf(pid)) + 1}`, async (dir) => assert.is(await tryOpen(dir), "opened"));
  });
});

test.run();
