/**
 * Verify — `tidemark verify DIR --store HOST:PORT --source NAME`: compares a directory with the
 * store's latest state of a source and changes nothing. Each item is classified with the core's
 * `Difference.classify` (the same rule the agent uses); exit 0 when all are in sync, 1 on drift, with
 * a summary line and the first differences.
 *
 * @example
 * tidemark verify ./data --store 127.0.0.1:7420 --source laptop   # "in sync: 1204 items match seq 5120"
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { readFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import type { SourceId } from "../../core/Codecs.ts";
import * as Difference from "../../core/Difference.ts";
import type { ItemMeta } from "../../core/ItemMeta.ts";
import * as Protocol from "../../core/Protocol.ts";
import * as LocalTree from "../agent/LocalTree.ts";
import { call } from "../agent/Shell.ts";
import * as Client from "../wire/Client.ts";
import * as Args from "./Args.ts";
import * as Remote from "./Remote.ts";
import { headOf } from "./Readers.ts";

const shownDifferences = 50;

const label: Record<Exclude<Difference.Classification, "InSync">, string> = {
  UploadWhole: "only on the host",
  Delete: "only in the store",
  SendChunks: "content differs",
  UpdateMetadata: "mode or mtime differs",
  Replace: "type differs",
};

/** The store's latest metadata of every item, read page by page. */
const storeItems = async (client: Client.Client, source: SourceId): Promise<Map<string, ItemMeta>> => {
  const out = new Map<string, ItemMeta>();
  let from: string | null = "";
  while (from !== null) {
    const [reply] = await Remote.ask(client, { _tag: "Metadata", source, range: { gte: from, lt: null }, limit: 1000, manifests: false });
    const page = await call(Client.decodeResult(Protocol.MetadataPage, reply)).catch(Remote.rethrow);
    for (const [path, item] of page.entries) out.set(path, item.meta);
    from = page.next;
  }
  return out;
};

/**
 * The directories among `listing` (item paths under `root`, the protected directory with its links
 * resolved) that are the spool of an agent protecting it as `source` (`protect --spool` inside the
 * tree): the agent leaves its spool out, and so does verify. Found by their `state.json`, which
 * names the source and the directory protected.
 */
const ownSpools = async (root: string, listing: ReadonlyArray<string>, source: string): Promise<ReadonlyArray<string>> => {
  const out: Array<string> = [];
  for (const path of listing) {
    if (!path.endsWith("/state.json")) continue;
    const state = await readFile(join(root, path), "utf8").then((t) => JSON.parse(t) as { source?: unknown; root?: unknown }, () => undefined);
    if (state?.source !== source || typeof state.root !== "string") continue;
    if ((await realpath(state.root).catch(() => undefined)) === root) out.push(path.slice(0, -"/state.json".length));
  }
  return out;
};

/** `tidemark verify …`; resolves to 0 in sync, 1 on drift. */
export const run = async (argv: ReadonlyArray<string>): Promise<number> => {
  const parsed = Args.parse(argv, { flags: { ...Remote.connectionFlags, source: "value" }, positional: [1, 1] });
  if (E.isLeft(parsed)) throw Remote.usageError(parsed.left);
  const p = parsed.right;
  const source = Remote.sourceName(p);
  const dir = p.positional[0]!;
  await Remote.requireDirectory(dir);
  return Remote.withReader(p, async (client) => {
    const { head } = await headOf(client, source);
    const remote = await storeItems(client, source);
    const differences: Array<{ readonly path: string; readonly kind: string }> = [];
    let items = 0;
    // An item the listing finds but no store could hold (its name) is drift too: it is not protected.
    const tree = LocalTree.make(dir, {
      onUnreadable: (u) => {
        items++;
        differences.push({ path: u.path, kind: "not protected" });
      },
    });
    const listing = await tree.list();
    const spools = await ownSpools(tree.root, listing, source);
    for (const path of listing) {
      if (spools.some((s) => path === s || path.startsWith(`${s}/`))) continue;
      items++;
      const local = await tree.read(path, false).catch((e) => {
        throw Remote.failure(`cannot read ${path}: ${LocalTree.isUnreadable(e) ? e.reason : String(e)}`);
      });
      const kind = Difference.classify(local?.meta, remote.get(path));
      remote.delete(path);
      if (kind !== "InSync") differences.push({ path, kind: label[kind] });
    }
    for (const path of remote.keys()) differences.push({ path, kind: label.Delete });
    if (p.flags["json"] === true) {
      process.stdout.write(JSON.stringify({ source, seq: head.seq, inSync: differences.length === 0, items, differences }) + "\n");
    } else if (differences.length === 0) {
      process.stdout.write(`in sync: ${items} items match ${source} at seq ${head.seq}\n`);
    } else {
      for (const d of differences.slice(0, shownDifferences)) process.stdout.write(`${d.kind}: ${d.path}\n`);
      if (differences.length > shownDifferences) process.stdout.write(`… and ${differences.length - shownDifferences} more\n`);
      process.stdout.write(`drift: ${differences.length} of ${items + remote.size} items differ from ${source} at seq ${head.seq}\n`);
    }
    return differences.length === 0 ? 0 : 1;
  });
};
