// The transport suite over both links, for Deno (its node:net and classic-level through FFI).
import "./memory.test.ts";
import "./tcp.test.ts";
