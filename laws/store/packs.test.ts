// The store compliance suite on classic-level with chunk bytes in pack files (the on-disk default).
import { ClassicLevel } from "classic-level";
import { open } from "node:fs/promises";
import { join } from "node:path";
import * as Chunks from "../../store/Chunks.ts";
import { fromLevel, parseJson } from "../../store/Database.ts";
import * as Keys from "../../store/Keys.ts";
import { run } from "./compliance.ts";

run(
  "classic-level with pack files",
  async (dir) => {
    const db = fromLevel(new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" }));
    await db.open();
    return db;
  },
  {
    open: (db, dir) => Chunks.packFiles(db, dir),
    overwrite: async (db, dir, digest, bytes) => {
      const at = parseJson<{ p: number; o: number }>((await db.get(Keys.chunk(digest)))!);
      const file = await open(join(dir, `${String(at.p).padStart(8, "0")}.pack`), "r+");
      await file.write(bytes, 0, bytes.length, at.o);
      await file.close();
    },
  },
);
