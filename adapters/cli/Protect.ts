/**
 * Protect — `tidemark protect DIR --store HOST:PORT --source NAME [--secret-file F] [--spool DIR]`:
 * runs the agent until SIGINT or SIGTERM (then it flushes what it can, keeps its spool and exits 0;
 * a second signal, or a stop that takes over 30 s, ends it at once with exit 1).
 * An unreachable store is retried (blackout); a refusal that cannot change by retrying — a wrong
 * secret, another agent already protecting the source — ends it with exit 1 and the reason.
 *
 * @example
 * tidemark protect ./data --store 127.0.0.1:7420 --source laptop --secret-file ~/.tidemark/secret
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import * as Agent from "../agent/Agent.ts";
import { SpoolError } from "../agent/Spool.ts";
import * as Args from "./Args.ts";
import { connectionFlags, failure, requireDirectory, secret, sourceName, storeAddress, tls, usageError } from "./Remote.ts";

const spec: Args.Spec = { flags: { ...connectionFlags, source: "value", spool: "value" }, positional: [1, 1] };

/** Where an agent keeps its spool unless told: under the user's state directory, one per source and tree. */
export const defaultSpool = (source: string, root: string): string => {
  const base = process.env["XDG_STATE_HOME"] ?? join(homedir(), ".local", "state");
  return join(base, "tidemark", `${source}-${createHash("sha256").update(root).digest("hex").slice(0, 12)}`);
};

const mib = (n: number): string => (n / 1048576).toFixed(1);

const progressLine = (p: Agent.Progress): string =>
  `${p.state}${p.connected ? "" : " (store unreachable)"}: ${p.itemsDone}/${p.itemsTotal} items (${p.itemsPerSecond.toFixed(0)}/s` +
  `${p.etaSeconds === null ? "" : `, about ${Math.ceil(p.etaSeconds)} s left`}), ${mib(p.bytesSent)} MiB sent, ${p.pending} pending, ${p.unacknowledged} unacknowledged`;

/** Runs the agent until a signal; resolves to the exit code. */
export const run = async (argv: ReadonlyArray<string>): Promise<number> => {
  const parsed = Args.parse(argv, spec);
  if (E.isLeft(parsed)) throw usageError(parsed.left);
  const p = parsed.right;
  const root = resolve(p.positional[0]!);
  const source = sourceName(p);
  const store = storeAddress(p);
  await requireDirectory(p.positional[0]!);
  const spoolDir = resolve(Args.value(p, "spool") ?? defaultSpool(source, root));
  const json = p.flags["json"] === true;
  const tty = process.stderr.isTTY === true && !json;
  const say = (line: string) => process.stderr.write(`${tty ? "\r\x1b[K" : ""}tidemark protect: ${line}\n`);
  let agent: Agent.Running;
  try {
    agent = await Agent.start({
      root,
      source,
      store,
      secret: await secret(p),
      tls: await tls(p),
      spoolDir,
      log: json ? (line) => process.stdout.write(JSON.stringify({ at: new Date().toISOString(), message: line }) + "\n") : say,
      onProgress: json
        ? (progress) => process.stdout.write(JSON.stringify({ at: new Date().toISOString(), progress }) + "\n")
        : tty
        ? (progress) => process.stderr.write(`\r\x1b[K${progressLine(progress)}`)
        : undefined,
    });
  } catch (e) {
    if (e instanceof SpoolError) throw failure(e.message);
    throw e;
  }
  if (!json) say(`protecting ${root} as ${source} into ${store} (spool ${spoolDir})`);
  const ended = await Promise.race([
    new Promise<{ readonly signal: string }>((done) => {
      process.once("SIGINT", () => done({ signal: "SIGINT" }));
      process.once("SIGTERM", () => done({ signal: "SIGTERM" }));
    }),
    agent.failed.then((reason) => ({ reason })),
  ]);
  const stopped = await stopWithin(agent, stopLimitMs);
  if ("reason" in ended) throw failure(ended.reason);
  if (stopped !== "stopped") {
    say(`${ended.signal}: ${stopped}; exiting now: the spool keeps what the store has not acknowledged`);
    return 1;
  }
  if (!json) say(`${ended.signal}: stopped; unacknowledged events stay in the spool`);
  return 0;
};

/** Longest a stop may take (it sends what it can and waits up to 5 s for acknowledgements). */
const stopLimitMs = 30_000;

/**
 * Stops the agent, or gives up after `limitMs` or at a second SIGINT or SIGTERM: a stop that hangs
 * must not keep a process its user asked to end. Ending then is like a crash, which the spool survives.
 */
const stopWithin = (agent: Agent.Running, limitMs: number): Promise<string> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let again: (() => void) | undefined;
  return Promise.race([
    agent.stop().then(() => "stopped"),
    new Promise<string>((done) => (timer = setTimeout(() => done(`the agent did not stop within ${limitMs / 1000} s`), limitMs))),
    new Promise<string>((done) => {
      again = () => done("a second signal");
      process.once("SIGINT", again);
      process.once("SIGTERM", again);
    }),
  ]).finally(() => {
    clearTimeout(timer);
    process.off("SIGINT", again!);
    process.off("SIGTERM", again!);
  });
};
