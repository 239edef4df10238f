/**
 * RestoreCommand — `tidemark restore --store HOST:PORT --source NAME --to DIR [--at ISO-TIME | --seq N |
 * --checkpoint NAME] [PATH...]`: resolves the point (latest by default), streams the tree as of it from
 * the store, fetches each file's chunks in batches, and writes through the store's `Restore` (temp file,
 * digest check, rename; nothing outside DIR). Says when the point lies inside a resync window.
 *
 * @example
 * tidemark restore --store 127.0.0.1:7420 --source laptop --to /tmp/back --at 2026-11-24T09:00:00Z docs
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import process from "node:process";
import type { SourceId } from "../../core/Codecs.ts";
import type * as History from "../../core/History.ts";
import * as ItemPath from "../../core/ItemPath.ts";
import * as Protocol from "../../core/Protocol.ts";
import * as SourceHead from "../../core/SourceHead.ts";
import * as Restore from "../../store/Restore.ts";
import { call } from "../agent/Shell.ts";
import type * as Client from "../wire/Client.ts";
import { sha256 } from "../Sha256.ts";
import * as Args from "./Args.ts";
import * as Remote from "./Remote.ts";
import { headOf } from "./Readers.ts";

const spec: Args.Spec = {
  flags: { ...Remote.connectionFlags, source: "value", to: "value", at: "value", seq: "value", checkpoint: "value" },
  positional: [0, Number.MAX_SAFE_INTEGER],
};

const chunkBatch = 128;

/** The sequence number the flags name. */
const resolvePoint = async (client: Client.Client, p: Args.Parsed, source: SourceId, head: SourceHead.SourceHead): Promise<number> => {
  const [at, seq, label] = [Args.value(p, "at"), Args.value(p, "seq"), Args.value(p, "checkpoint")];
  if ([at, seq, label].filter((x) => x !== undefined).length > 1) throw Remote.usageError("give at most one of --at, --seq and --checkpoint");
  if (seq !== undefined) {
    if (!/^\d+$/.test(seq)) throw Remote.usageError(`--seq ${JSON.stringify(seq)} is not a sequence number`);
    if (Number(seq) > head.seq) throw Remote.failure(`seq ${seq} is beyond the head of ${source} (${head.seq})`);
    return Number(seq);
  }
  if (at !== undefined) {
    const ms = /^\d{4}-\d{2}-\d{2}/.test(at) ? Date.parse(at) : NaN;
    if (Number.isNaN(ms)) throw Remote.usageError(`--at ${JSON.stringify(at)} is not an ISO time (like 2026-11-24T09:30:00Z)`);
    const [reply] = await Remote.ask(client, { _tag: "SeqAt", source, at: ms });
    if (reply === 0) throw Remote.failure(`${source} has nothing stored at or before ${new Date(ms).toISOString()}`);
    return reply as number;
  }
  if (label !== undefined) {
    const found = SourceHead.checkpoint(head, label);
    if (found === undefined) throw Remote.failure(`${source} has no checkpoint ${JSON.stringify(label)}`);
    return found.seq;
  }
  return head.seq;
};

/** The tree as of a point, read through the wire, with each file's chunks fetched before it is written. */
const remoteTree = (client: Client.Client, versions: ReadonlyArray<History.Version>): Restore.TreeSource => {
  const cache = new Map<string, Uint8Array>();
  const fetch = async (digests: ReadonlyArray<string>) => {
    for (let i = 0; i < digests.length; i += chunkBatch) {
      const [reply] = await call(client.query({ _tag: "Chunks", digests: digests.slice(i, i + chunkBatch) })).catch(Remote.rethrow);
      for (const [d, bytes] of reply as ReadonlyArray<readonly [string, Uint8Array | null]>) if (bytes instanceof Uint8Array) cache.set(d, bytes);
    }
  };
  return {
    hash: sha256,
    chunk: async (digest) => cache.get(digest),
    treeAsOf: async function* () {
      for (const v of versions) {
        cache.clear();
        if (v.meta?.type === "file") await fetch([...new Set(v.manifest.map((c) => c.digest))]);
        yield v;
      }
    },
  };
};

/** `tidemark restore …`; resolves to the exit code. */
export const run = async (argv: ReadonlyArray<string>): Promise<number> => {
  const parsed = Args.parse(argv, spec);
  if (E.isLeft(parsed)) throw Remote.usageError(parsed.left);
  const p = parsed.right;
  const source = Remote.sourceName(p);
  const to = Remote.required(p, "to");
  const paths = p.positional.map((raw) => {
    const path = ItemPath.normalise(raw);
    if (E.isLeft(path)) throw Remote.usageError(`bad path ${JSON.stringify(raw)}: ${ItemPath.describe(path.left)}`);
    return path.right;
  });
  return Remote.withReader(p, async (client) => {
    const { head } = await headOf(client, source);
    const seq = await resolvePoint(client, p, source, head);
    const pages = await Remote.ask(client, { _tag: "Tree", source, seq, paths });
    const versions = pages.flatMap((page) =>
      E.getOrElseW(() => {
        throw Remote.failure("the store sent a malformed tree");
      })(t.array(Protocol.Version).decode(page))
    ) as unknown as ReadonlyArray<History.Version>;
    if (paths.length > 0 && versions.every((v) => v.meta === null)) throw Remote.failure(`nothing under ${paths.join(", ")} in ${source} at seq ${seq}`);
    const tty = process.stderr.isTTY === true && p.flags["json"] !== true;
    let done = 0;
    const report = await Restore.restore(remoteTree(client, versions), source, { seq }, to, paths, () => {
      done++;
      if (tty && done % 50 === 0) process.stderr.write(`\r\x1b[Krestoring: ${done}/${versions.length} items`);
    });
    if (tty) process.stderr.write("\r\x1b[K");
    if (E.isLeft(report)) throw Remote.failure(Restore.describeError(report.left));
    const consistent = SourceHead.isConsistentAt(head, seq);
    if (p.flags["json"] === true) {
      process.stdout.write(JSON.stringify({ source, seq, to, consistent, ...report.right }) + "\n");
    } else {
      const r = report.right;
      process.stdout.write(`restored ${r.files} files, ${r.dirs} directories, ${r.symlinks} symlinks (${r.bytes} bytes) of ${source} as of seq ${seq} into ${to}\n`);
      if (!consistent) process.stderr.write(`tidemark: warning: seq ${seq} lies inside a resync window; this tree is not point-in-time consistent\n`);
    }
    return 0;
  });
};
