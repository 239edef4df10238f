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

exit codes: 0 success, 1 drift found or operation failed, 2 bad usage
`;

const commands = new Set(["store", "protect", "status", "history", "restore", "verify", "checkpoint"]);

/** Runs the command line; resolves to the exit code. */
export const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const [command] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  if (!commands.has(command)) {
    process.stderr.write(`tidemark: unknown command ${JSON.stringify(command)} (see tidemark --help)\n`);
    return 2;
  }
  process.stderr.write(`tidemark: '${command}' is not available in this version yet\n`);
  return 1;
};
