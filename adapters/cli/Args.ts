/**
 * Args — the command line's flag parser: `--name value`, `--name=value` and boolean `--name`, with
 * the positional arguments in between. Unknown flags, missing values and wrong positional counts are
 * usage errors (exit 2), reported as one line.
 *
 * @example
 * Args.parse(["DIR", "--store", "127.0.0.1:7420"], { flags: { store: "value" }, positional: [1, 1] })
 * // Right({ flags: { store: "127.0.0.1:7420" }, positional: ["DIR"] })
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";

/** What a command accepts. */
export interface Spec {
  readonly flags: Readonly<Record<string, "value" | "switch">>;
  /** Least and most positional arguments. */
  readonly positional: readonly [number, number];
}

/** Parsed arguments. */
export interface Parsed {
  readonly flags: Readonly<Record<string, string | true>>;
  readonly positional: ReadonlyArray<string>;
}

/** Parses `argv` against a spec. */
export const parse = (argv: ReadonlyArray<string>, spec: Spec): E.Either<string, Parsed> => {
  const flags: Record<string, string | true> = {};
  const positional: Array<string> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec.flags[name];
    if (kind === undefined) return E.left(`unknown option --${name}`);
    if (name in flags) return E.left(`--${name} given twice`);
    if (kind === "switch") {
      if (eq >= 0) return E.left(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "") return E.left(`--${name} needs a value`);
    flags[name] = value;
  }
  const [least, most] = spec.positional;
  if (positional.length < least) return E.left(`missing argument${least - positional.length > 1 ? "s" : ""}`);
  if (positional.length > most) return E.left(`unexpected argument ${JSON.stringify(positional[most])}`);
  return E.right({ flags, positional });
};

/** A flag's value, if given as a value. */
export const value = (p: Parsed, name: string): string | undefined => {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
};
