/**
 * glibc's getopt_long() as PMDK's tools use it (optstring without '+' or '-', so operands are skipped over and
 * options after them still count): short options, bundled or with their value attached or in the next argument;
 * `--name=value` or `--name value`; a long name may be abbreviated to a unique prefix; `--` ends the options.
 * Errors yield '?' with the message getopt prints to standard error.
 */

/** struct option, for options whose flag pointer is NULL (getopt_long returns `val`). */
export interface LongOption {
  name: string;
  hasArg: boolean;
  /** The short option it stands for. */
  val: string;
}

/** One getopt_long() return: the option's short letter and value, or '?' with getopt's error message. */
export type GetoptResult = { opt: string; arg?: string } | { opt: '?'; message: string };

/** Yields each option of `argv` in order, as successive getopt_long() calls return them. */
export function* getoptLong(
  prog: string,
  argv: readonly string[],
  optstring: string,
  longopts: readonly LongOption[],
): Generator<GetoptResult> {
  const takesArg = (c: string): boolean | undefined => {
    const at = optstring.indexOf(c);
    return c === ':' || at < 0 ? undefined : optstring[at + 1] === ':';
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const exact = longopts.find((o) => o.name === name);
      const matches = exact !== undefined ? [exact] : longopts.filter((o) => o.name.startsWith(name));
      if (matches.length === 0) {
        yield { opt: '?', message: `${prog}: unrecognized option '${a}'\n` };
        continue;
      }
      if (matches.length > 1) {
        const list = matches.map((o) => ` '--${o.name}'`).join('');
        yield { opt: '?', message: `${prog}: option '--${name}' is ambiguous; possibilities:${list}\n` };
        continue;
      }
      const o = matches[0]!;
      if (!o.hasArg) {
        if (eq >= 0) yield { opt: '?', message: `${prog}: option '--${o.name}' doesn't allow an argument\n` };
        else yield { opt: o.val };
        continue;
      }
      if (eq >= 0) yield { opt: o.val, arg: a.slice(eq + 1) };
      else if (i + 1 < argv.length) yield { opt: o.val, arg: argv[++i]! };
      else yield { opt: '?', message: `${prog}: option '--${o.name}' requires an argument\n` };
      continue;
    }
    if (!a.startsWith('-') || a === '-') continue;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const wants = takesArg(c);
      if (wants === undefined) {
        yield { opt: '?', message: `${prog}: invalid option -- '${c}'\n` };
        continue;
      }
      if (!wants) {
        yield { opt: c };
        continue;
      }
      if (j + 1 < a.length) yield { opt: c, arg: a.slice(j + 1) };
      else if (i + 1 < argv.length) yield { opt: c, arg: argv[++i]! };
      else yield { opt: '?', message: `${prog}: option requires an argument -- '${c}'\n` };
      break;
    }
  }
}
