/**
 * The `tidemark` command line (DESIGN §6). Exit codes: 0 success, 1 drift found or operation
 * failed, 2 bad usage. Errors are one line on stderr.
 *
 * @example
 * import { main } from "./main.ts";
 * process.exitCode = await main(["--help"]);
 *
 * @module
 */
import process from "node:process";
import * as Protect from "./Protect.ts";
import * as Readers from "./Readers.ts";
import { CliError, usageError } from "./Remote.ts";
import * as RestoreCommand from "./RestoreCommand.ts";
import * as Serve from "./Serve.ts";
import * as Verify from "./Verify.ts";

/** The usage text. */
export const usage = `tidemark — continuous data protection for directory trees

usage:
  tidemark store serve  --data DIR [--listen HOST:PORT] [--secret-file F] [--tls-cert F --tls-key F]
  tidemark protect      DIR --store HOST:PORT --source NAME [--secret-file F] [--spool DIR]
  tidemark status       --store HOST:PORT [--source NAME]
  tidemark history      --store HOST:PORT --source NAME PATH
  tidemark restore      --store HOST:PORT --source NAME --to DIR [--at ISO-TIME | --seq N | --checkpoint NAME] [PATH...]
  tidemark verify       DIR --store HOST:PORT --source NAME
  tidemark checkpoint   --store HOST:PORT --source NAME LABEL

connection options (every command that talks to a store):
  --secret-file F       the shared secret (required when the store has one)
  --tls-ca F | --tls-pin SHA256   trust the store's TLS certificate
  --json                machine-readable output

exit codes: 0 success, 1 drift found or operation failed, 2 bad usage
`;

type Command = (argv: ReadonlyArray<string>) => Promise<number>;

const storeCommand: Command = (argv) => {
  if (argv[0] !== "serve") throw usageError(argv[0] === undefined ? "store needs a subcommand: serve" : `unknown store subcommand ${JSON.stringify(argv[0])}`);
  return Serve.run(argv.slice(1));
};

const commands: Readonly<Record<string, Command>> = {
  store: storeCommand,
  protect: Protect.run,
  status: Readers.status,
  history: Readers.history,
  restore: RestoreCommand.run,
  verify: Verify.run,
  checkpoint: Readers.checkpoint,
};

/**
 * Makes a failure that nothing waited for (a bug) end the process as an unexpected error ends a
 * command: one line on stderr and exit 1, not a stack trace. For a command's own process (the
 * entry scripts call it), not for a program that calls `main`.
 */
export const endOnStrayFailure = (argv: ReadonlyArray<string>): void => {
  process.on("unhandledRejection", (e) => {
    process.stderr.write(`tidemark ${argv[0] ?? ""}: unexpected error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  });
};

/** Runs the command line; resolves to the exit code. */
export const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (run === undefined) {
    process.stderr.write(`tidemark: unknown command ${JSON.stringify(command)} (see tidemark --help)\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(usage);
    return 0;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`tidemark ${command}: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`tidemark ${command}: unexpected error: ${(e as Error)?.message ?? String(e)}\n`);
    return 1;
  }
};
