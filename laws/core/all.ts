/**
 * Every core law file, for runtimes without uvu's CLI (Deno): uvu runs the queued suites and prints
 * one summary at the end.
 *
 * @module
 */
import "./paths.test.ts";
import "./codecs.test.ts";
import "./content.test.ts";
import "./projections.test.ts";
import "./processor.test.ts";
import "./frames.test.ts";
import "./delta.test.ts";
