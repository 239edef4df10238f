/**
 * Readers — `tidemark status`, `history` and `checkpoint`: small commands that ask the store one
 * thing and print it (text for people, `--json` for machines). They may run while an agent protects
 * the source.
 *
 * @example
 * tidemark status --store 127.0.0.1:7420 --source laptop
 * tidemark history --store 127.0.0.1:7420 --source laptop docs/report.txt
 * tidemark checkpoint --store 127.0.0.1:7420 --source laptop before-upgrade
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import process from "node:process";
import * as Codecs from "../../core/Codecs.ts";
import * as ItemPath from "../../core/ItemPath.ts";
import * as Protocol from "../../core/Protocol.ts";
import * as SourceHead from "../../core/SourceHead.ts";
import type * as Queries from "../server/Queries.ts";
import * as Args from "./Args.ts";
import * as Remote from "./Remote.ts";

const iso = (ms: number): string => new Date(ms).toISOString();
const out = (line: string) => process.stdout.write(line + "\n");

const parseWith = (argv: ReadonlyArray<string>, spec: Args.Spec): Args.Parsed => {
  const parsed = Args.parse(argv, spec);
  if (E.isLeft(parsed)) throw Remote.usageError(parsed.left);
  return parsed.right;
};

/** The head of one source and who writes it; a failure when the store does not have it. */
export const headOf = async (client: Parameters<typeof Remote.ask>[0], source: string) => {
  const [reply] = await Remote.ask(client, { _tag: "Head", source: source as Codecs.SourceId });
  const answer = reply as { head: SourceHead.SourceHead | null; agent: Queries.AgentInfo | null };
  if (answer.head === null) throw Remote.failure(`the store has no source ${JSON.stringify(source)}`);
  return { head: answer.head, agent: answer.agent };
};

const describeSource = (s: Queries.SourceStatus): ReadonlyArray<string> => {
  const { head, agent } = s;
  const state = agent?.report?.state ?? head.state;
  const agentText = agent === null
    ? "no agent connected"
    : `agent connected from ${agent.peer}${agent.report === null ? "" : `, ${agent.report.pending} pending, ${agent.report.unacknowledged} unacknowledged, ${agent.report.trust === "dirty" ? "trusted dirty set" : "full comparison"}`}`;
  const last = head.checkpoints[head.checkpoints.length - 1];
  const open = head.windows.filter((w) => w.done === null);
  const lines = [
    `source ${s.source}`,
    `  head        seq ${head.seq}, last event ${head.seq === 0 ? "never" : iso(head.at)} (${head.seq === 0 ? "-" : `${Math.max(0, Math.round((Date.now() - head.at) / 1000))} s ago`})`,
    `  state       ${state} (${agentText})`,
    `  checkpoint  ${last === undefined ? "none" : `${JSON.stringify(last.label)} at seq ${last.seq} (${iso(last.at)})`}`,
  ];
  if (open.length > 0) lines.push(`  window      ${open[0]!.kind} open since seq ${open[0]!.began}: restore points after it are not point-in-time consistent`);
  return lines;
};

/** `tidemark status --store HOST:PORT [--source NAME]`. */
export const status = async (argv: ReadonlyArray<string>): Promise<number> => {
  const p = parseWith(argv, { flags: { ...Remote.connectionFlags, source: "value" }, positional: [0, 0] });
  const wanted = Args.value(p, "source") === undefined ? undefined : Remote.sourceName(p);
  return Remote.withReader(p, async (client) => {
    const [reply] = await Remote.ask(client, { _tag: "Sources" });
    const all = reply as ReadonlyArray<Queries.SourceStatus>;
    const shown = wanted === undefined ? all : all.filter((s) => s.source === wanted);
    if (wanted !== undefined && shown.length === 0) throw Remote.failure(`the store has no source ${JSON.stringify(wanted)}`);
    if (p.flags["json"] === true) out(JSON.stringify({ sources: shown }));
    else if (shown.length === 0) out("the store has no sources yet");
    else out(shown.flatMap(describeSource).join("\n"));
    return 0;
  });
};

/** `tidemark history --store HOST:PORT --source NAME PATH`. */
export const history = async (argv: ReadonlyArray<string>): Promise<number> => {
  const p = parseWith(argv, { flags: { ...Remote.connectionFlags, source: "value" }, positional: [1, 1] });
  const source = Remote.sourceName(p);
  const path = ItemPath.normalise(p.positional[0]!);
  if (E.isLeft(path)) throw Remote.usageError(`bad path ${JSON.stringify(p.positional[0])}: ${ItemPath.describe(path.left)}`);
  return Remote.withReader(p, async (client) => {
    const { head } = await headOf(client, source);
    const [reply] = await Remote.ask(client, { _tag: "History", source, path: path.right });
    const versions = E.getOrElseW(() => {
      throw Remote.failure("the store sent a malformed history");
    })(t.array(Protocol.Version).decode(reply));
    if (versions.length === 0) throw Remote.failure(`source ${source} has no item ${JSON.stringify(path.right)}`);
    if (p.flags["json"] === true) {
      out(JSON.stringify({ source, path: path.right, versions: versions.map((v) => ({ ...v, consistent: SourceHead.isConsistentAt(head, v.seq) })) }));
      return 0;
    }
    for (const v of versions) {
      const what = v.meta === null ? "deleted" : v.meta.type === "file" ? `file ${v.meta.size} bytes ${v.meta.digest?.slice(0, 12) ?? ""}` : v.meta.type;
      const note = SourceHead.isConsistentAt(head, v.seq) ? "" : "  (inside a resync window: not point-in-time consistent)";
      out(`seq ${String(v.seq).padEnd(8)} ${iso(v.at)}  ${v.kind.padEnd(16)} ${what}${note}`);
    }
    return 0;
  });
};

/** `tidemark checkpoint --store HOST:PORT --source NAME LABEL`. */
export const checkpoint = async (argv: ReadonlyArray<string>): Promise<number> => {
  const p = parseWith(argv, { flags: { ...Remote.connectionFlags, source: "value" }, positional: [1, 1] });
  const source = Remote.sourceName(p);
  const label = p.positional[0]!;
  if (!Codecs.Label.is(label)) throw Remote.usageError("the label must be 1-200 printable characters");
  return Remote.withReader(p, async (client) => {
    const [reply] = await Remote.ask(client, { _tag: "Checkpoint", source, label });
    const made = E.getOrElseW(() => {
      throw Remote.failure("the store sent a malformed reply");
    })(Protocol.CheckpointMade.decode(reply));
    if (p.flags["json"] === true) out(JSON.stringify({ source, ...made }));
    else out(`checkpoint ${JSON.stringify(made.label)} marked in ${source} at seq ${made.seq}`);
    return 0;
  });
};
