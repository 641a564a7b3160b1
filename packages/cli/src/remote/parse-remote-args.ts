// Argument parsing for the remote commands (`kiln login`, `kiln tasks …`, `kiln sandbox …`): Node's
// parseArgs in strict mode, with its errors turned into UsageError (exit 2 and the command's usage).
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "../exec/parse-exec-args.ts";

/** Parses `config.args` strictly (unknown options are usage errors); `--help`/`-h` must be declared by the caller. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
      // Node's messages go on with advice about `--`; the first sentence is the useful part.
      const message = (error as Error).message.split(/\.\s/)[0] ?? (error as Error).message;
      throw new UsageError(message.replace(/\.$/, ""));
    }
    throw error;
  }
}

/** `value` as an integer in [min, max]; a usage error naming `flag` otherwise. */
export function parseIntOption(value: string, flag: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: "${value}" is not a whole number from ${min} to ${max}`);
  }
  return n;
}

/** `value` if it is one of `allowed`; a usage error naming `flag` otherwise. */
export function parseChoice<T extends string>(value: string, flag: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new UsageError(`${flag}: "${value}" is not one of ${allowed.join(", ")}`);
  return found;
}

/** The only positional argument, or a usage error saying which one is missing (or extra). */
export function singlePositional(positionals: string[], name: string): string {
  if (positionals.length === 0) throw new UsageError(`give the ${name}`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  return positionals[0] as string;
}
