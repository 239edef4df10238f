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

/** Most chunks one query asks for, and about the most chunk bytes (a larger chunk is asked for alone). */
const batchChunks = 128;
const batchBytes = 8 * 1024 * 1024;
/** How many batches are asked for ahead of the file being handed to the restore. */
const batchesAhead = 4;

/**
 * The tree as of a point, read through the wire. The chunks of the files coming next are asked for
 * a batch at a time (many small files in one query; a query per file cost a round trip each:
 * 100,000 small files took minutes), a few batches ahead of the writing, and handed over once each
 * (memory holds those batches, not whole files). A chunk not fetched ahead — the rest of a large
 * file, a chunk met again later — is asked for when it is needed, with the chunks of its file that
 * follow it.
 *
 * @example
 * const report = await Restore.restore(remoteTree(client, versions), source, { seq }, "/tmp/back");
 * @category restore
 */
export const remoteTree = (client: Client.Client, versions: ReadonlyArray<History.Version>): Restore.TreeSource => {
  const ahead = new Map<string, Promise<Uint8Array | undefined>>();
  /** The large file each of its chunks belongs to (the first such file), and how far into its manifest chunks have been asked for. */
  const largeFileOf = new Map<string, History.Version>();
  const askedUpTo = new Map<History.Version, number>();
  const ask = (digests: ReadonlyArray<string>): void => {
    const reply = call(client.query({ _tag: "Chunks", digests: [...digests] })).catch(Remote.rethrow);
    const got = reply.then(([r]) => new Map((r as ReadonlyArray<readonly [string, Uint8Array | null]>).map(([d, b]) => [d, b instanceof Uint8Array ? b : undefined])));
    for (const d of digests) {
      const bytes = got.then((m) => m.get(d));
      // A failure reaches whoever takes the chunk; one nobody takes (the restore stopped) is not an unhandled rejection.
      bytes.catch(() => undefined);
      ahead.set(d, bytes);
    }
  };
  /** Asks for the chunks of files from `from` on, up to a batch's worth; the index of the first file not in it. */
  const askBatch = (from: number): number => {
    const digests = new Set<string>();
    let bytes = 0;
    let i = from;
    for (; i < versions.length; i++) {
      const v = versions[i]!;
      if (v.meta?.type !== "file") continue;
      const fresh = [...new Set(v.manifest.map((c) => c.digest))].filter((d) => !digests.has(d) && !ahead.has(d));
      if (digests.size > 0 && (digests.size + fresh.length > batchChunks || bytes + v.meta.size > batchBytes)) break;
      if (fresh.length > batchChunks || v.meta.size > batchBytes) {
        for (const c of v.manifest) if (!largeFileOf.has(c.digest)) largeFileOf.set(c.digest, v);
        continue;
      }
      for (const d of fresh) digests.add(d);
      bytes += v.meta.size;
    }
    if (digests.size > 0) ask([...digests]);
    return i;
  };
  /** Asks for a chunk not fetched ahead, with the chunks of its large file not yet asked for (up to a batch). */
  const askAround = (digest: string): void => {
    const digests = [digest];
    const v = largeFileOf.get(digest);
    if (v !== undefined) {
      let [at, bytes] = [askedUpTo.get(v) ?? 0, 0];
      for (; at < v.manifest.length && digests.length < batchChunks && bytes < batchBytes; at++) {
        const c = v.manifest[at]!;
        bytes += c.size;
        if (!ahead.has(c.digest) && !digests.includes(c.digest)) digests.push(c.digest);
      }
      askedUpTo.set(v, at);
    }
    ask(digests);
  };
  return {
    hash: sha256,
    chunk: (digest) => {
      if (!ahead.has(digest)) askAround(digest);
      const bytes = ahead.get(digest)!;
      ahead.delete(digest);
      return bytes;
    },
    treeAsOf: async function* () {
      const ends: Array<number> = [];
      let next = 0;
      for (const [i, v] of versions.entries()) {
        while (ends.length > 0 && ends[0]! <= i) ends.shift();
        while (ends.length < batchesAhead && next < versions.length) ends.push((next = askBatch(next)));
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
