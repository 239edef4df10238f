/**
 * Resync benchmark against rsync (`npm run bench:resync`, `-- --quick` for a short run, `-- --runs N`
 * to run each change scenario N times, each with a fresh change set, and report the medians,
 * `-- --only 2,8` for some scenarios only; `restore` names the closing comparison of restores into an
 * empty directory, not scored: each tree restored twice, each tool first once). Builds a
 * tree (in /dev/shm when it exists), brings a tidemark store and an rsync daemon module to the same
 * baseline, then for each scenario applies one change set and brings each up to date again, printing
 * the bytes that crossed a byte-counting relay on 127.0.0.1 (both directions, both tools through the
 * same relay code), wall time, and the CPU time of every process involved: rsync's client and its
 * daemon; tidemark's agent and its store server. After every scenario both copies are compared with
 * the source byte for byte (rsync's module directory directly; tidemark's by a full restore).
 *
 * The agent runs in its own process, started before the clock (Node's boot is not counted, nor the
 * collection of what loading the TypeScript left behind; rsync's client is a native binary that
 * starts in milliseconds); the clock runs from its start to the moment
 * it is in sync with everything acknowledged. Its spool and stat cache persist between scenarios, as
 * a restarted agent's would. rsync runs as `rsync -a --delete --stats` (its default quick check).
 *
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { packageBundle } from "../adapters/cli/bundle.mjs";
import * as Command from "./Command.ts";
import * as Relay from "./Relay.ts";
import * as Trees from "./Trees.ts";

const quick = process.argv.includes("--quick");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg < 0 ? 1 : Number(process.argv[runsArg + 1]);
if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
  console.error(`--runs takes a whole number from 1 to 20 (got ${process.argv[runsArg + 1] ?? "nothing"})`);
  process.exit(2);
}
const onlyArg = process.argv.indexOf("--only");
/** The scenarios to run (`--only 2,8,restore`), all by default; the baselines always run. */
const only = onlyArg < 0 ? undefined : new Set((process.argv[onlyArg + 1] ?? "").split(","));
if (only !== undefined && ![...only].every((n) => /^[1-8]$/.test(n) || n === "restore")) {
  console.error(`--only takes scenario numbers from 1 to 8 and "restore", separated by commas (got ${process.argv[onlyArg + 1] ?? "nothing"})`);
  process.exit(2);
}
const chosen = (scenario: number | "restore"): boolean => only === undefined || only.has(String(scenario));
const MiB = 1024 * 1024;
const at = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const { cli, nodeFlags } = Command;
/**
 * The agent worker runs as the `tidemark` command runs: under its Node flags, from a bundle of the
 * sources (bundle.mjs, the same build), else through tsx.
 */
const bundled = packageBundle(at("./agent-worker.ts"), "bench-agent-worker", [at(".")]);
const worker = [...nodeFlags, ...(bundled === undefined ? ["--import", "tsx", at("./agent-worker.ts")] : [bundled])];
const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
const work = await mkdtemp(join(base, "tidemark-resync-"));
const tick = 100; // clock ticks per second in /proc/<pid>/stat (CLK_TCK on Linux)

const ensureRsync = (): void => {
  try {
    execFileSync("rsync", ["--version"], { stdio: "ignore" });
  } catch {
    console.log("# rsync not found: installing it from Debian's packages");
    execFileSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq rsync"], { stdio: "inherit" });
  }
};

/** CPU seconds of a process and of its reaped children, from /proc. */
const cpuOf = async (pid: number): Promise<{ readonly self: number; readonly children: number }> => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const n = (i: number) => Number(fields[i - 3]);
  return { self: (n(14) + n(15)) / tick, children: (n(16) + n(17)) / tick };
};

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const waitFor = (child: ReturnType<typeof spawn>, pattern: RegExp): Promise<RegExpExecArray> =>
  new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m !== null) resolve(m);
    });
    child.on("exit", (code) => reject(new Error(`exited (${code}) before ${pattern}: ${out}`)));
  });

/** Runs a command to its end without blocking this process; its stdout, or an error with its stderr. */
const run = (file: string, args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} ${args.join(" ")} exited ${code}: ${err}`))));
  });

/** One tool's figures for one run. */
interface Figures {
  readonly bytes: number;
  readonly wall: number;
  readonly cpu: number;
  readonly detail: string;
}

const startStore = async () => {
  const child = spawn(process.execPath, [...nodeFlags, cli, "store", "serve", "--data", join(work, "store"), "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "ignore"] });
  const m = await waitFor(child, /listening on 127\.0\.0\.1:(\d+)/);
  return { child, port: Number(m[1]) };
};

const startRsyncd = async (modules: Readonly<Record<string, string>>) => {
  const port = await freePort();
  const conf = join(work, "rsyncd.conf");
  const uid = process.getuid?.() ?? 0;
  const sections = Object.entries(modules).map(([name, path]) => `[${name}]\n  path = ${path}\n  read only = false\n  uid = ${uid}\n  gid = ${process.getgid?.() ?? 0}\n`);
  await writeFile(conf, `use chroot = no\npid file = ${join(work, "rsyncd.pid")}\n${sections.join("")}`);
  for (const path of Object.values(modules)) await mkdir(path, { recursive: true });
  const child = spawn("rsync", ["--daemon", "--no-detach", `--config=${conf}`, `--port=${port}`, "--address=127.0.0.1"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 300));
  return { child, port };
};

/** The CPU seconds a shell's `times` printed last: those of the command it ran. */
const childrenCpu = (out: string): number => {
  const times = out.trim().split("\n").slice(-1)[0]!.split(/\s+/).map((t) => { const m = /(\d+)m([\d.]+)s/.exec(t)!; return Number(m[1]) * 60 + Number(m[2]); });
  return times[0]! + times[1]!;
};

/**
 * Runs one rsync command line (ending in `&& times`, for the client's CPU) through `relay`: the bytes
 * that crossed it, the wall time, and the CPU of the client and of the daemon's children.
 */
const timeRsync = async (relay: Relay.Relay, daemonPid: number, command: string) => {
  relay.reset();
  const before = await cpuOf(daemonPid);
  const began = performance.now();
  // Not execFileSync: the relay runs in this process and must keep forwarding meanwhile.
  const out = await run("bash", ["-c", command]);
  const wall = (performance.now() - began) / 1000;
  await new Promise((r) => setTimeout(r, 100));
  const daemon = (await cpuOf(daemonPid)).children - before.children;
  const client = childrenCpu(out);
  const { up, down } = relay.counts();
  return { out, bytes: up + down, wall, cpu: client + daemon, cpuDetail: `cpu client ${client.toFixed(2)} s + daemon ${daemon.toFixed(2)} s` };
};

const runRsync = async (relay: Relay.Relay, daemonPid: number, src: string, module: string): Promise<Figures> => {
  const t = await timeRsync(relay, daemonPid, `rsync -a --delete --stats "${src}/" "rsync://127.0.0.1:${relay.port}/${module}/" && times`);
  const stat = (name: string) => Number((new RegExp(`${name}: ([\\d,]+)`).exec(t.out)?.[1] ?? "0").replace(/,/g, ""));
  return { bytes: t.bytes, wall: t.wall, cpu: t.cpu, detail: `rsync --stats: sent ${stat("Total bytes sent")}, received ${stat("Total bytes received")}; ${t.cpuDetail}` };
};

const runTidemark = async (relay: Relay.Relay, storePid: number, root: string, source: string): Promise<Figures> => {
  relay.reset();
  const child = spawn(process.execPath, ["--expose-gc", ...worker, root, `127.0.0.1:${relay.port}`, source, join(work, `spool-${source}`)], { stdio: ["pipe", "pipe", "inherit"] });
  await waitFor(child, /ready/);
  const before = await cpuOf(storePid);
  child.stdin!.write("go\n");
  const m = await waitFor(child, /synced ([\d.]+) ([\d.]+)/);
  const store = (await cpuOf(storePid)).self - before.self;
  const { up, down } = relay.counts();
  await new Promise((r) => child.on("exit", r));
  const agent = Number(m[2]) / 1000;
  return { bytes: up + down, wall: Number(m[1]) / 1000, cpu: agent + store, detail: `agent→store ${up}, store→agent ${down}; cpu agent ${agent.toFixed(2)} s + store ${store.toFixed(2)} s` };
};

type Tool = "rsync" | "tidemark";
type Relays = { readonly [tool in Tool]: Relay.Relay };
type Pids = { readonly daemon: number; readonly store: number };

/** One tool's restore of a whole tree into the empty directory `into`, through its relay, the command's start included. */
const restoreWith: { readonly [tool in Tool]: (relays: Relays, pids: Pids, module: string, into: string) => Promise<Figures> } = {
  rsync: async (relays, pids, module, into) => {
    const t = await timeRsync(relays.rsync, pids.daemon, `rsync -a "rsync://127.0.0.1:${relays.rsync.port}/${module}/" "${into}/" && times`);
    return { bytes: t.bytes, wall: t.wall, cpu: t.cpu, detail: t.cpuDetail };
  },
  tidemark: async (relays, pids, module, into) => {
    relays.tidemark.reset();
    const before = await cpuOf(pids.store);
    const began = performance.now();
    const out = await run("bash", ["-c", `"${process.execPath}" ${nodeFlags.join(" ")} "${cli}" restore --store 127.0.0.1:${relays.tidemark.port} --source ${module} --to "${into}" && times`]);
    const wall = (performance.now() - began) / 1000;
    const store = (await cpuOf(pids.store)).self - before.self;
    const { up, down } = relays.tidemark.counts();
    const client = childrenCpu(out);
    return { bytes: up + down, wall, cpu: client + store, detail: `cpu restore ${client.toFixed(2)} s + store ${store.toFixed(2)} s` };
  },
};

/**
 * Restores a whole tree into an empty directory with each tool, in the order given, checking each
 * copy against the source and removing it before the next tool runs: on this machine writing a GiB
 * while another copy is still held took twice as long or more (the main tree's restore, the tool
 * that went second: rsync 8.4 s against 6.8 s, tidemark 15.4 s against 4.9 s). (The module and the
 * source share a name.)
 */
const runRestores = async (relays: Relays, pids: Pids, root: string, module: string, order: ReadonlyArray<Tool>): Promise<readonly [Figures, Figures, Array<string>]> => {
  const expected = await Trees.digestTree(root);
  const into = join(work, "restored");
  const figures: Partial<Record<Tool, Figures>> = {};
  const bad: Array<string> = [];
  for (const tool of order) {
    await rm(into, { recursive: true, force: true });
    figures[tool] = await restoreWith[tool](relays, pids, module, into);
    bad.push(...(await differsIn(expected, tool, into)));
    await rm(into, { recursive: true, force: true });
  }
  return [figures.rsync!, figures.tidemark!, bad] as const;
};

/** The paths where a tool's copy differs from the source's digests (`Trees.digestTree`), marked with the tool. */
const differsIn = async (expected: Map<string, string>, tool: Tool, copy: string): Promise<Array<string>> =>
  Trees.differ(expected, await Trees.digestTree(copy)).map((p) => `${tool}:${p}`);

/** The paths where each tool's copy differs from the source, marked with the tool (none when all is well). */
const differing = async (source: string, rsyncCopy: string, tidemarkCopy: string): Promise<Array<string>> => {
  const expected = await Trees.digestTree(source);
  return [...(await differsIn(expected, "rsync", rsyncCopy)), ...(await differsIn(expected, "tidemark", tidemarkCopy))];
};

/** Compares both copies with the source; returns the paths that differ (none when all is well). */
const check = async (storePort: number, src: string, rsyncDir: string, source: string): Promise<Array<string>> => {
  const restored = join(work, "check");
  await rm(restored, { recursive: true, force: true });
  await run(process.execPath, [...nodeFlags, cli, "restore", "--store", `127.0.0.1:${storePort}`, "--source", source, "--to", restored]);
  const bad = await differing(src, rsyncDir, restored);
  await rm(restored, { recursive: true, force: true });
  return bad;
};

const report = (r: Figures, t: Figures, bad: ReadonlyArray<string>): void => {
  console.log(`  rsync:    ${r.bytes} bytes, ${r.wall.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s cpu (${r.detail})`);
  console.log(`  tidemark: ${t.bytes} bytes, ${t.wall.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s cpu (${t.detail})`);
  console.log(`  both copies equal the source byte for byte: ${bad.length === 0 ? "yes" : `NO (${bad.slice(0, 5).join(", ")})`}`);
};

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The scenario's line: each ratio of tidemark's figure to rsync's, the median over the runs. */
const summarise = (name: string, pairs: ReadonlyArray<readonly [Figures, Figures]>, kind = "resync"): void => {
  const ratio = (f: (x: Figures) => number) => median(pairs.map(([r, t]) => f(t) / f(r)));
  const each = pairs.length === 1 ? "" : ` (medians of ${pairs.length} runs; time ratios ${pairs.map(([r, t]) => (t.wall / r.wall).toFixed(2)).join(", ")})`;
  console.log(`${kind} ${name}: bytes ratio ${ratio((x) => x.bytes).toFixed(3)}, time ratio ${ratio((x) => x.wall).toFixed(3)}, cpu ratio ${ratio((x) => x.cpu).toFixed(3)}${each}`);
};

const main = async (): Promise<number> => {
  ensureRsync();
  const files = quick ? 1000 : 10_000;
  const large = quick ? [8 * MiB, 16 * MiB] : [64 * MiB, 64 * MiB, 96 * MiB, 128 * MiB];
  const scale = quick ? [1000, 10_000] : [10_000, 100_000];
  const src = join(work, "src");
  console.log(`# ${quick ? "quick" : "full"} run in ${work}; the agent runs ${bundled === undefined ? "through tsx (no bundle could be built)" : "from a bundle, as the tidemark command does"}`);
  const total = await Trees.build(src, 1, files, large);
  const scaled = await Promise.all(scale.filter(() => chosen(8) || chosen("restore")).map(async (n) => {
    const root = join(work, `tree-${n}`);
    await Trees.build(root, 2, n, [], () => 1024);
    return { n, root };
  }));
  console.log(`# main tree: ${files} files + ${large.length} large, ${(total / MiB).toFixed(0)} MiB; scale trees of ${scale.join(" and ")} files of 1 KiB`);
  const store = await startStore();
  const modules: Record<string, string> = { main: join(work, "rsync-main") };
  for (const { n } of scaled) modules[`t${n}`] = join(work, `rsync-${n}`);
  const rsyncd = await startRsyncd(modules);
  const [relayT, relayR] = [await Relay.start(store.port), await Relay.start(rsyncd.port)];
  let failures = 0;
  /** Applies a change set and brings both copies up to date, `times` times (a fresh change set each). */
  const scenario = async (name: string, root: string, module: string, source: string, apply: (run: number) => Promise<void>, times = runs) => {
    console.log(`\n# ${name}`);
    const pairs: Array<readonly [Figures, Figures]> = [];
    for (let k = 0; k < times; k++) {
      await apply(k);
      if (times > 1) console.log(`  run ${k + 1} of ${times}`);
      const r = await runRsync(relayR, rsyncd.child.pid!, root, module);
      const t = await runTidemark(relayT, store.child.pid!, root, source);
      const bad = await check(store.port, root, modules[module]!, source);
      failures += bad.length;
      report(r, t, bad);
      pairs.push([r, t]);
    }
    summarise(name, pairs);
  };
  const unchanged = async () => {};
  try {
    await scenario("baseline (initial copy)", src, "main", "main", unchanged, 1);
    for (const { n, root } of scaled) await scenario(`baseline of the ${n}-file tree`, root, `t${n}`, `t${n}`, unchanged, 1);
    const rnd = Trees.random(99);
    const changes: ReadonlyArray<readonly [string, (run: number) => Promise<void>]> = [
      ["1 nothing changed", unchanged],
      ["2 1% of files edited in place", () => Trees.editInPlace(src, rnd, 0.01)],
      ["3 appends to the large files", () => Trees.appendLarge(src, MiB)],
      ["4 bytes inserted near the start of the large files", () => Trees.insertNearStart(src)],
      ["5 100 files renamed or moved", () => Trees.moveFiles(src, rnd, 100)],
      ["6 5% deleted and as many created", (run) => Trees.churn(src, rnd, 0.05, run === 0 ? "" : `${run}-`)],
      ["7 everything changed", () => Trees.rewriteAll(src)],
    ];
    for (const [name, apply] of changes) if (chosen(Number.parseInt(name, 10))) await scenario(name, src, "main", "main", apply);
    for (const { n, root } of chosen(8) ? scaled : []) await scenario(`8 one file changed in a tree of ${n} files`, root, `t${n}`, `t${n}`, () => Trees.touchOne(root));
    const restores = [{ name: "the main tree", root: src, module: "main" }, ...scaled.map(({ n, root }) => ({ name: `the ${n}-file tree`, root, module: `t${n}` }))];
    for (const { name, root, module } of chosen("restore") ? restores : []) {
      console.log(`\n# restore of ${name} into an empty directory (not scored)`);
      // Twice, each tool first once.
      const pairs: Array<readonly [Figures, Figures]> = [];
      for (const order of [["rsync", "tidemark"], ["tidemark", "rsync"]] as const) {
        console.log(`  ${order[0]} first`);
        const [r, t, bad] = await runRestores({ rsync: relayR, tidemark: relayT }, { daemon: rsyncd.child.pid!, store: store.child.pid! }, root, module, order);
        failures += bad.length;
        report(r, t, bad);
        pairs.push([r, t]);
      }
      summarise(name, pairs, "restore");
    }
  } finally {
    await relayT.close();
    await relayR.close();
    store.child.kill("SIGTERM");
    rsyncd.child.kill("SIGTERM");
    await new Promise((r) => store.child.on("exit", r));
    await rm(work, { recursive: true, force: true });
  }
  return failures === 0 ? 0 : 1;
};

process.exit(await main());
