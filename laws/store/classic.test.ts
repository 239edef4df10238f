// The store compliance suite on classic-level: LevelDB on disk.
import { ClassicLevel } from "classic-level";
import type { Database } from "../../store/Database.ts";
import { run } from "./compliance.ts";

run("classic-level", async (dir) => {
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" });
  await db.open();
  return db as unknown as Database;
});
