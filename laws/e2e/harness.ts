/**
 * Helpers for end-to-end tests that drive the real command line in child processes: start and
 * stop `tidemark` processes (only the ones started here, by their pid), run a command to its exit,
 * poll until a condition holds, build and compare directory trees.
 *
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../adapters/cli/tidemark.mjs", import.meta.url));
const denoCli = fileURLToPath(new URL("../../adapters/cli/run.ts", import.meta.url));
/**
 * The Deno binary itself. After a fresh `npm ci`, `node_modules/.bin/deno` is a Node wrapper that
 * installs the binary on first use and runs it as its child; a signal to the wrapper would not reach
 * Deno, so tests run the binary directly (asking the wrapper once to install it when needed).
 */
const deno = (() => {
  const binary = fileURLToPath(new URL("../../node_modules/deno/deno", import.meta.url));
  if (!existsSync(binary)) execFileSync(fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url)), ["--version"], { stdio: "ignore" });
  return binary;
})();

/** The runtime a command runs under. */
export type Runtime = "node" | "deno";

const command = (runtime: Runtime, args: ReadonlyArray<string>): [string, Array<string>] =>
  runtime === "node" ? [process.execPath, [cli, ...args]] : [deno, ["run", "--quiet", "--allow-all", denoCli, ...args]];

/** What a finished command did. */
export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Node running `tidemark …`; with `fileKiB`, under a file size limit of that many KiB (`ulimit -f`:
 * the kernel refuses writes past it with EFBIG, as a full disk refuses them with ENOSPC).
 */
const spawnCli = (args: ReadonlyArray<string>, fileKiB?: number): ChildProcess =>
  fileKiB === undefined
    ? spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    : spawn("bash", ["-c", `ulimit -f ${fileKiB} && exec "$@"`, "bash", process.execPath, cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });

/** Runs `tidemark …` to its end (killed after `timeoutMs`), its files limited to `fileKiB` KiB when given. */
export const tidemark = (args: ReadonlyArray<string>, timeoutMs = 60_000, fileKiB?: number): Promise<Ran> =>
  new Promise((resolve) => {
    const child = spawnCli(args, fileKiB);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

/** A long-running `tidemark` process. */
export interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code once it has exited. */
  readonly exited: Promise<number | null>;
}

/** A started child as a `Running`: its output kept as it comes, its exit awaited. */
const running = (child: ChildProcess): Running => {
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, output: () => output, exited };
};

/** Starts `tidemark …` under Node in the background, its files limited to `fileKiB` KiB each. */
export const startLimited = (fileKiB: number, args: ReadonlyArray<string>): Running => running(spawnCli(args, fileKiB));

/** Starts `tidemark …` in the background. */
export const start = (args: ReadonlyArray<string>, runtime: Runtime = "node"): Running => {
  const [file, argv] = command(runtime, args);
  return running(spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } }));
};

/** Starts a store server (by default on a free port of 127.0.0.1); resolves with its address once it listens. */
export const startStore = async (data: string, extra: ReadonlyArray<string> = [], listen = "127.0.0.1:0", runtime: Runtime = "node"): Promise<Running & { readonly address: string }> => {
  const running = start(["store", "serve", "--data", data, "--listen", listen, ...extra], runtime);
  const listening = await until(() => /listening on (\S+?)(?: \(TLS\))?,/.exec(running.output()), 20_000);
  if (listening === undefined) throw new Error(`the store did not start: ${running.output()}`);
  return { ...running, address: listening[1]! };
};

/** Stops a process started here: the signal, then its exit code. */
export const stop = async (r: Running, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> => {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal);
  return r.exited;
};

/** Polls `f` until it gives a value other than undefined/false/null, or the time runs out. */
export const until = async <A>(f: () => A | undefined | null | false | Promise<A | undefined | null | false>, ms: number, every = 100): Promise<A | undefined> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, every));
  }
};

/** A file's content and mode, a directory, or a link's target, by relative path. */
export type Snapshot = Map<string, string>;

/** Reads a tree into a comparable snapshot (file content hashed by its bytes as text of hex). */
export const snapshot = async (root: string): Promise<Snapshot> => {
  const out: Snapshot = new Map();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      if (name.startsWith(".tidemark-restore-")) continue;
      const full = join(dir, name);
      const path = rel === "" ? name : `${rel}/${name}`;
      const st = await lstat(full);
      if (st.isSymbolicLink()) out.set(path, `link → ${await readlink(full)}`);
      else if (st.isDirectory()) {
        out.set(path, "dir");
        await walk(full, path);
      } else out.set(path, `file ${(st.mode & 0o777).toString(8)} ${Buffer.from(await readFile(full)).toString("base64")}`);
    }
  };
  await walk(root, "");
  return out;
};

/**
 * Restores a source into `to` through the command line (`connection`: the store and source flags;
 * `args`: a point such as `--seq N`, or paths) and reads back what it wrote. Throws with the
 * command's error output when it does not exit 0.
 */
export const restoredTree = async (connection: ReadonlyArray<string>, to: string, args: ReadonlyArray<string> = [], timeoutMs = 60_000): Promise<Snapshot> => {
  const restored = await tidemark(["restore", ...connection, "--to", to, ...args], timeoutMs);
  if (restored.code !== 0) throw new Error(`restore ${args.join(" ")} exited ${restored.code}: ${restored.stderr}`);
  return snapshot(to);
};

/** The paths where two snapshots differ (empty when equal). */
export const differences = (a: Snapshot, b: Snapshot): ReadonlyArray<string> =>
  [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();

/** A deterministic pseudo-random generator, so a failing run can be repeated. */
export const random = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
};

/** Bytes of pseudo-random content. */
export const bytes = (rnd: () => number, n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rnd() * 256) | 0;
  return out;
};

/** Writes a tree of `files` small files in nested directories plus one large file. */
export const makeTree = async (root: string, rnd: () => number, files: number, largeBytes: number): Promise<void> => {
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${i % 7}`, `e${i % 3}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `f${i}.dat`), bytes(rnd, (rnd() * 20_000) | 0));
  }
  await writeFile(join(root, "large.bin"), bytes(rnd, largeBytes));
};
