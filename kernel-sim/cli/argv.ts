/**
 * The command line of `kctx run`, `kctx mdb` and `kctx explore`: node's own `util.parseArgs`
 * (`--flag VALUE`, `--flag=VALUE`, `--` ends the options), with kctx's usage messages. Each command
 * declares its options in a table and checks the values it took.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Argv<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { multiple: true } ? (O[K] extends { type: 'boolean' } ? boolean[] : string[]) : O[K] extends { type: 'boolean' } ? boolean : string };
  positionals: string[];
}

/** Splits argv by the option table; a usage error says which option is wrong and why. */
export function readArgv<O extends Options>(argv: string[], options: O): Argv<O> {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as Argv<O>['values'], positionals: r.positionals };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = e instanceof Error ? e.message : String(e);
    const flag = /'(-[^' <]+)/.exec(msg)?.[1] ?? '?';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option '${flag}'`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      if (/does not take an argument/.test(msg)) throw new UsageError(`${flag} takes no value`);
      if (/ambiguous/.test(msg)) throw new UsageError(`${flag} needs a value (write ${flag}=VALUE for a value that starts with '-')`);
      throw new UsageError(`${flag} needs a value`);
    }
    throw new UsageError(msg);
  }
}

/** A decimal integer option value no smaller than `min`. */
export function intArg(s: string, flag: string, min = 0): number {
  if (!/^\d+$/.test(s) || Number(s) < min || !Number.isSafeInteger(Number(s))) {
    throw new UsageError(min === 0 ? `${flag} expects a non-negative integer, got '${s}'` : `${flag} expects an integer >= ${min}, got '${s}'`);
  }
  return Number(s);
}

/** A value that must be one of `allowed`. */
export function oneOf<T extends string>(s: string, flag: string, allowed: readonly T[]): T {
  if (!allowed.includes(s as T)) throw new UsageError(`${flag} expects ${allowed.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got '${s}'`);
  return s as T;
}
