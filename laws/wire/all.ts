// The transport suite over both links and the payload laws, for Deno (its node:net, node:zlib and classic-level through FFI).
import "./memory.test.ts";
import "./tcp.test.ts";
import "./payload.test.ts";
