/** Where a bundle's sources are and where it goes (see `bundle.mjs`). */
export interface BundleOf {
  /** The TypeScript entry file (absolute). */
  readonly entry: string;
  /** Directories whose `.ts` files the bundle is built from: a change to any of them rebuilds it. */
  readonly sources: ReadonlyArray<string>;
  /** Further files whose change rebuilds it (the installed packages' lock). */
  readonly also?: ReadonlyArray<string>;
  /** The bundle's path. */
  readonly out: string;
}

/** The path of an up-to-date bundle of `entry` at `out` (built now if needed), or undefined when it cannot be built or written. */
export declare const freshBundle: (of: BundleOf) => string | undefined;
