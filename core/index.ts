/**
 * tidemark/core — the pure functional core: domain types and codecs, chunking, projections,
 * fingerprints, the resync planner and the event processor. No I/O, no clock, no randomness.
 *
 * @example
 * import { ItemPath, Processor, Catalogue, View } from "tidemark/core";
 *
 * @module
 */
export * as Catalogue from "./Catalogue.ts";
export * as Chunking from "./Chunking.ts";
export * as Codecs from "./Codecs.ts";
export * as Difference from "./Difference.ts";
export * as Digest from "./Digest.ts";
export * as Envelope from "./Envelope.ts";
export * as Event from "./Event.ts";
export * as Fingerprint from "./Fingerprint.ts";
export * as History from "./History.ts";
export * as ItemMeta from "./ItemMeta.ts";
export * as ItemPath from "./ItemPath.ts";
export * as Manifest from "./Manifest.ts";
export * as Processor from "./Processor.ts";
export * as ProcessorState from "./ProcessorState.ts";
export * as ProcessorStep from "./ProcessorStep.ts";
export * as ResyncPlan from "./ResyncPlan.ts";
export * as SortedMap from "./SortedMap.ts";
export * as SourceHead from "./SourceHead.ts";
export * as View from "./View.ts";
