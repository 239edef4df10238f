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

/** A bundle of one of this package's entry files, named `name` in `node_modules/.cache/tidemark/`, fresh against the package's sources and `more` directories (see `bundle.mjs`). */
export declare const packageBundle: (entry: string, name: string, more?: ReadonlyArray<string>) => string | undefined;
