/**
 * ndctl's util/parse-options.c (from git and perf): short switches, which may be bundled (`-Ni`) or take their
 * value attached (`-rregion1`) or as the next argument; long options as `--name=value` or `--name value`;
 * `--no-<name>` to turn a boolean off; `--` ends the options. A bad option prints `  Error: ...` and the usage
 * to standard error and the command exits 129, as usage_with_options() does.
 */

export type OptionKind = 'boolean' | 'string' | 'incr';

/** One OPT_* entry. */
export interface OptionSpec {
  /** Key in the result. */
  name: string;
  short?: string;
  long: string;
  kind: OptionKind;
  /** The value's placeholder in the usage text (OPT_STRING's argh). */
  arg?: string;
  help: string;
}

export type ParsedOptions = Record<string, string | boolean | number | undefined>;

/** Exit status of usage_with_options(). */
export const USAGE_EXIT = 129;

/** Thrown for a bad command line; `message` is what parse-options prints before the usage. */
export class UsageError extends Error {
  readonly exitCode = USAGE_EXIT;
}

/** parse_options(): fills booleans, strings and counters; returns the options and the non-option arguments. */
export function parseOptions(
  specs: readonly OptionSpec[],
  argv: readonly string[],
): { opts: ParsedOptions; args: string[] } {
  const opts: ParsedOptions = {};
  const args: string[] = [];
  const bump = (s: OptionSpec) => {
    if (s.kind === 'incr') opts[s.name] = ((opts[s.name] as number | undefined) ?? 0) + 1;
    else opts[s.name] = true;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      let spec = specs.find((s) => s.long === name);
      let negated = false;
      if (spec === undefined && name.startsWith('no-')) {
        spec = specs.find((s) => s.long === name.slice(3) && s.kind === 'boolean');
        negated = spec !== undefined;
      }
      if (spec === undefined) throw new UsageError(`unknown option \`${name}'`);
      if (spec.kind !== 'string') {
        if (eq >= 0) throw new UsageError(`option \`${name}' takes no value`);
        if (negated) opts[spec.name] = false;
        else bump(spec);
        continue;
      }
      if (eq >= 0) opts[spec.name] = a.slice(eq + 1);
      else if (i + 1 < argv.length) opts[spec.name] = argv[++i]!;
      else throw new UsageError(`option \`${name}' requires a value`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const spec = specs.find((s) => s.short === c);
        if (spec === undefined) throw new UsageError(`unknown switch \`${c}'`);
        if (spec.kind !== 'string') {
          bump(spec);
          continue;
        }
        if (j + 1 < a.length) opts[spec.name] = a.slice(j + 1);
        else if (i + 1 < argv.length) opts[spec.name] = argv[++i]!;
        else throw new UsageError(`switch \`${c}' requires a value`);
        break;
      }
      continue;
    }
    args.push(a);
  }
  return { opts, args };
}

/** usage_with_options()'s text: the usage line, then one line per option. */
export function usageText(usage: string, specs: readonly OptionSpec[]): string {
  const lines = [`\n usage: ${usage}\n`];
  for (const s of specs) {
    let left = s.short !== undefined ? `-${s.short}, --${s.long}` : `    --${s.long}`;
    if (s.kind === 'string') left += ` <${s.arg ?? 'str'}>`;
    lines.push(`    ${left.padEnd(24)} ${s.help}`);
  }
  return `${lines.join('\n')}\n\n`;
}

/**
 * Runs parseOptions() for a command; on a UsageError prints `  Error: <message>` and the usage to the
 * command's standard error and returns null (the caller exits USAGE_EXIT).
 */
export function parseOrUsage(
  stderr: (text: string) => void,
  usage: string,
  specs: readonly OptionSpec[],
  argv: readonly string[],
): { opts: ParsedOptions; args: string[] } | null {
  try {
    return parseOptions(specs, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    stderr(`  Error: ${e.message}\n${usageText(usage, specs)}`);
    return null;
  }
}
