// The store compliance suite on memory-level.
import { MemoryLevel } from "memory-level";
import { fromLevel } from "../../store/Database.ts";
import { run } from "./compliance.ts";

run("memory-level", async () => {
  const db = fromLevel(new MemoryLevel<string, Uint8Array>({ keyEncoding: "utf8", valueEncoding: "view" }));
  await db.open();
  return db;
});
