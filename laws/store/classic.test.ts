// The store compliance suite on classic-level: LevelDB on disk.
import { ClassicLevel } from "classic-level";
import { fromLevel } from "../../store/Database.ts";
import { run } from "./compliance.ts";

run("classic-level", async (dir) => {
  const db = fromLevel(new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" }));
  await db.open();
  return db;
});
