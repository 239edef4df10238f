// Appends to a LevelDB store in a loop until killed, printing each acknowledged sequence number.
// Used by crash.test.ts: `node --import tsx crash-child.ts DIR`, DIR under the system's temporary
// directory. Any other DIR is refused: run by a test runner over all of laws/ (`uvu laws/store`,
// whose argument it took for DIR) it wrote a 3 GB store into the source tree and ran until killed.
import { tmpdir } from "node:os";
import { resolve, sep } from "node:path";
import process from "node:process";
import { sha256 } from "../../adapters/Sha256.ts";
import type { Digest } from "../../core/Digest.ts";
import * as Event from "../../core/Event.ts";
import type { ItemPath } from "../../core/ItemPath.ts";
import * as Store from "../../store/Store.ts";
import * as Model from "../core/model.ts";

const [dir] = process.argv.slice(2);
if (dir === undefined || !resolve(dir).startsWith(resolve(tmpdir()) + sep)) {
  process.stderr.write(`crash-child: DIR must lie under ${tmpdir()} (got ${dir ?? "nothing"})\n`);
  process.exit(2);
}
const store = await Store.openClassic(dir, { hash: sha256 });
let seq = ((await store.head(Model.source))?.seq ?? 0) + 1;
let round = 0;
for (;;) {
  const batch: Array<Event.Event> = [];
  // At most four events a batch on paths seq % 7, so no batch touches one path twice and each base is the stored version.
  for (let i = 0; i < 1 + (round++ % 4); i++) {
    const path = `f${seq % 7}` as ItemPath;
    const local = Model.localItem(path, { text: `version ${seq} `.repeat(1 + (seq % 50)), mtimeMs: seq });
    const previous = await store.catalogue(Model.source, { gte: path, lt: path + "\u0000" }).next();
    const base = previous.done ? null : { type: "file" as const, digest: previous.value[1].meta.digest };
    const chunks = [...local.chunks].map(([digest, bytes]) => ({ digest: digest as Digest, bytes }));
    const body = { _tag: "ItemWritten" as const, path, meta: local.meta, manifest: local.manifest, chunks, base, origin: "live" as const, ranges: [] };
    batch.push(Event.stamp({ source: Model.source, seq: seq++, at: seq }, body));
  }
  const out = await store.append(Model.source, batch);
  if (out._tag === "Left") {
    process.stderr.write(`append refused: ${JSON.stringify(out.left)}\n`);
    process.exit(3);
  }
  process.stdout.write(`acked ${out.right.head.seq}\n`);
}
