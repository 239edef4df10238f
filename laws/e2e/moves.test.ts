// Moves through the command line. Live: a directory and a file renamed, and a log rotated, while
// protected go to the store as moves (a few events, not one per file, and each file's history follows it), and a moved
// directory whose contents also changed, two directories swapped, and a directory moved in from
// outside the tree all end with `verify` at exit 0. While the agent is stopped: directories renamed
// (the new name before the old in key order, and after it; and one moved aside with a new directory
// made in its place) go as moves when it starts again, and
// moves mixed with changes inside, swaps, a new directory at a moved one's name and moves up and
// down the tree, made while it was killed, end in sync and restore whole.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { differences, restoredTree, type Running, snapshot, start, startStore, stop, tidemark, until } from "./harness.ts";

const files = 200;

interface Protected {
  readonly work: string;
  readonly tree: string;
  readonly connection: ReadonlyArray<string>;
  agent: Running;
}

/** The agent's command line. */
const protect = (tree: string, work: string, connection: ReadonlyArray<string>): Running => start(["protect", tree, ...connection, "--spool", join(work, "spool")]);

/** Stops the agent with `signal`, makes `changes` while nothing watches, and starts it again. */
const whileStopped = async (p: Protected, signal: NodeJS.Signals, changes: () => void): Promise<void> => {
  const code = await stop(p.agent, signal);
  if (signal === "SIGTERM") assert.is(code, 0, p.agent.output());
  changes();
  p.agent = protect(p.tree, p.work, p.connection);
};

/** The store's head sequence number for the source. */
const head = async (p: Protected): Promise<number> => {
  const s = await tidemark(["status", ...p.connection, "--json"]);
  return (JSON.parse(s.stdout) as { sources: Array<{ head: { seq: number } }> }).sources[0]!.head.seq;
};

/** Waits until `verify` exits 0, and says what it last reported if it never does. */
const inSync = async (p: Protected, what: string): Promise<void> => {
  let last = "";
  const synced = await until(async () => {
    const v = await tidemark(["verify", p.tree, ...p.connection]);
    last = v.stdout + v.stderr;
    return v.code === 0;
  }, 20_000, 400);
  assert.ok(synced, `not in sync 20 s after ${what}:\n${last.split("\n").slice(0, 8).join("\n")}\n${p.agent.output()}`);
};

const historyOf = async (p: Protected, path: string): Promise<string> => (await tidemark(["history", ...p.connection, path])).stdout;

const protectedTree = async (run: (p: Protected) => Promise<void>): Promise<void> => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-moves-"));
  const tree = join(work, "tree");
  await mkdir(join(tree, "dir", "inner"), { recursive: true });
  await mkdir(join(tree, "other"), { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(join(tree, "dir", "inner", `f${i}.txt`), `file ${i}\n`.repeat(1 + (i % 7)));
  for (let i = 0; i < 10; i++) await writeFile(join(tree, "dir", `top${i}.txt`), `top ${i}\n`);
  for (let i = 0; i < 5; i++) await writeFile(join(tree, "other", `o${i}.txt`), `other ${i}\n`);
  await writeFile(join(tree, "notes.txt"), "some notes\n".repeat(100));
  await writeFile(join(tree, "app.log"), "a log line\n".repeat(100));
  const store = await startStore(join(work, "store"));
  const connection = ["--store", store.address, "--source", "moves"];
  const p: Protected = { work, tree, connection, agent: protect(tree, work, connection) };
  try {
    await inSync(p, "the upload");
    await run(p);
  } finally {
    await stop(p.agent, "SIGKILL");
    await stop(store, "SIGKILL");
    await rm(work, { recursive: true, force: true });
  }
};

test("a directory and a file renamed while protected are moves, not a delete and a create per file", () =>
  protectedTree(async (p) => {
    const before = await head(p);
    const tree = await snapshot(p.tree);
    renameSync(join(p.tree, "dir"), join(p.tree, "renamed"));
    renameSync(join(p.tree, "notes.txt"), join(p.tree, "renamed.txt"));
    // A log rotated: moved aside and a new one made in its place.
    renameSync(join(p.tree, "app.log"), join(p.tree, "app.log.1"));
    writeFileSync(join(p.tree, "app.log"), "the new log\n");
    await inSync(p, "the renames");
    const sent = (await head(p)) - before;
    // One move per rename and one new file; a delete and a create per file would be over 400 events.
    assert.ok(sent <= 6, `${sent} events for three renames and a new file\n${p.agent.output()}`);
    assert.match(await historyOf(p, "renamed/inner/f7.txt"), /ItemRenamed/);
    assert.match(await historyOf(p, "renamed.txt"), /ItemRenamed/);
    assert.match(await historyOf(p, "app.log.1"), /ItemRenamed/);
    assert.match(await historyOf(p, "dir/inner/f7.txt"), /ItemRenamed/); // its history says where it went
    // The tree as it was before the moves, and as it is after them, come back whole.
    for (const [at, expected] of [[before, tree], [await head(p), await snapshot(p.tree)]] as const) {
      assert.equal(differences(await restoredTree(p.connection, join(p.work, `restored-${at}`), ["--seq", String(at)]), expected), [], `restore at ${at}`);
    }
  }));

test("a moved directory whose files also changed, two directories swapped, and one moved in from outside end in sync", () =>
  protectedTree(async (p) => {
    // Moved, then one file rewritten, one removed and one added in it, within microseconds.
    renameSync(join(p.tree, "dir"), join(p.tree, "moved"));
    writeFileSync(join(p.tree, "moved", "inner", "f1.txt"), "rewritten after the move\n");
    rmSync(join(p.tree, "moved", "inner", "f2.txt"));
    writeFileSync(join(p.tree, "moved", "added.txt"), "added after the move\n");
    await inSync(p, "a move with changes");
    assert.match(await historyOf(p, "moved/inner/f1.txt"), /ItemWritten|ItemCreated/);
    // Swapped through a third name.
    renameSync(join(p.tree, "moved"), join(p.tree, "swap"));
    renameSync(join(p.tree, "other"), join(p.tree, "moved"));
    renameSync(join(p.tree, "swap"), join(p.tree, "other"));
    await inSync(p, "two directories swapped");
    // Out of the tree, and another in from outside (never read by the agent: its files are new).
    renameSync(join(p.tree, "other"), join(p.work, "outside"));
    mkdirSync(join(p.work, "incoming", "deep"), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(p.work, "incoming", "deep", `n${i}.txt`), `incoming ${i}\n`);
    renameSync(join(p.work, "incoming"), join(p.tree, "incoming"));
    await inSync(p, "directories moved out and in");
    // A directory moved below another inside the tree.
    mkdirSync(join(p.tree, "nest"));
    renameSync(join(p.tree, "incoming"), join(p.tree, "nest", "incoming"));
    await inSync(p, "a directory moved deeper");
  }));

test("directories renamed while the agent was stopped go as moves when it starts again, also one with a new directory made in its place", () =>
  protectedTree(async (p) => {
    const before = await head(p);
    const tree = await snapshot(p.tree);
    await whileStopped(p, "SIGTERM", () => {
      renameSync(join(p.tree, "dir"), join(p.tree, "renamed")); // the old name first in key order
      renameSync(join(p.tree, "other"), join(p.tree, "aside")); // the new name first
    });
    await inSync(p, "the renames made while the agent was stopped");
    const sent = (await head(p)) - before;
    // Two moves and the upload's own few; a delete and a create per file would be over 400 events.
    assert.ok(sent <= 10, `${sent} events for two renames\n${p.agent.output()}`);
    assert.match(await historyOf(p, "renamed/inner/f7.txt"), /ItemRenamed/);
    assert.match(await historyOf(p, "aside/o3.txt"), /ItemRenamed/);
    // Moved aside, and a new directory made with one file in its place (a rotation of directories).
    const second = await head(p);
    await whileStopped(p, "SIGTERM", () => {
      renameSync(join(p.tree, "renamed"), join(p.tree, "renamed.1"));
      mkdirSync(join(p.tree, "renamed"));
      writeFileSync(join(p.tree, "renamed", "top0.txt"), "a new file at an old path\n");
    });
    await inSync(p, "a directory moved aside and another made in its place");
    const rotated = (await head(p)) - second;
    assert.ok(rotated <= 10, `${rotated} events for a directory moved aside and another made in its place\n${p.agent.output()}`);
    assert.match(await historyOf(p, "renamed.1/inner/f7.txt"), /ItemRenamed/);
    for (const [at, expected] of [[before, tree], [await head(p), await snapshot(p.tree)]] as const) {
      assert.equal(differences(await restoredTree(p.connection, join(p.work, `restored-${at}`), ["--seq", String(at)]), expected), [], `restore at ${at}`);
    }
  }));

test("moves mixed with changes, swaps, a new directory at a moved one's name, and moves up and down, made while the agent was killed, end in sync", () =>
  protectedTree(async (p) => {
    await whileStopped(p, "SIGKILL", () => {
      // Moved, and inside it one file rewritten, one removed, one added.
      renameSync(join(p.tree, "dir"), join(p.tree, "moved"));
      writeFileSync(join(p.tree, "moved", "inner", "f1.txt"), "rewritten after the move\n");
      rmSync(join(p.tree, "moved", "inner", "f2.txt"));
      writeFileSync(join(p.tree, "moved", "added.txt"), "added after the move\n");
      // A new directory made at the old name.
      mkdirSync(join(p.tree, "dir"));
      writeFileSync(join(p.tree, "dir", "f1.txt"), "a new file at an old path\n");
    });
    await inSync(p, "a move with changes and a new directory at its old name");
    await whileStopped(p, "SIGKILL", () => {
      // Swapped through a third name.
      renameSync(join(p.tree, "moved"), join(p.tree, "swap"));
      renameSync(join(p.tree, "other"), join(p.tree, "moved"));
      renameSync(join(p.tree, "swap"), join(p.tree, "other"));
      // A subdirectory moved up out of its directory, and one moved down into a new one.
      renameSync(join(p.tree, "other", "inner"), join(p.tree, "inner"));
      mkdirSync(join(p.tree, "nest"));
      renameSync(join(p.tree, "dir"), join(p.tree, "nest", "dir"));
    });
    await inSync(p, "swaps and moves up and down");
    const now = await snapshot(p.tree);
    assert.equal(differences(await restoredTree(p.connection, join(p.work, "restored"), []), now), []);
  }));

test.run();
