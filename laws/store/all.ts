// The store compliance suite on both databases, for Deno (which runs classic-level with --allow-ffi).
import "./classic.test.ts";
import "./memory.test.ts";
import "./packs.test.ts";
