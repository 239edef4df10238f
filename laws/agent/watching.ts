// The watch suite, for Deno (its recursive `Deno.watchFs` in place of Node's watch per directory): a
// directory moved within the tree, the root removed, made again and replaced, the kernel's queue
// overflowing, and the periodic scan.
import "./watchmoved.test.ts";
import "./rootgone.test.ts";
import "./watchoverflow.test.ts";
import "./periodicscan.test.ts";
