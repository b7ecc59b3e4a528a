/**
 * ndctl/bus.c (ndctl v78): `ndctl start-scrub` and `ndctl wait-scrub` over the buses named (ids, providers,
 * "ndbusN" names, or all), each bus that succeeds listed as util_bus_to_json() prints it.
 *
 * On this kernel a write to nfit/scrub returns once the scrub it starts has finished (the model's store awaits
 * the rescan, where the kernel's queues it), so start-scrub reports "scrub_state":"idle" where real ndctl
 * usually shows "active".
 */
import type { ToolContext } from '../context.js';
import { NdctlCtx } from '../lib/libndctl.js';
import { neg } from '../lib/namespace_config.js';
import { ndctlBusPollScrubCompletion, ndctlBusStartScrub } from '../lib/scrub.js';
import { strerror } from '../lib/strerror.js';
import { busToJson, displayJsonArray, type JsonValue } from '../util/json.js';
import { type OptionSpec, parseOrUsage, USAGE_EXIT, usageText } from '../util/parse_options.js';
import { utilBusFilter } from './filter.js';

const BASE_OPTIONS: OptionSpec[] = [
  { name: 'verbose', short: 'v', long: 'verbose', kind: 'boolean', help: 'turn on debug' },
];

const WAIT_OPTIONS: OptionSpec[] = [
  ...BASE_OPTIONS,
  { name: 'poll', short: 'p', long: 'poll', kind: 'string', arg: 'n', help: 'poll interval (seconds)' },
];

/**
 * OPT_UINTEGER's parse (strtol base 10 of the whole argument, as an unsigned int); null with the parse error
 * printed where the value is not a number.
 */
export function parseUinteger(
  ctx: ToolContext,
  value: string,
  spec: OptionSpec,
  argv: readonly string[],
): number | null {
  const m = /^\s*([+-]?\d+)$/.exec(value);
  if (value === '' || m !== null) return m === null ? 0 : Number(BigInt.asUintN(32, BigInt(m[1]!)));
  const long = argv.some((a) => a === `--${spec.long}` || a.startsWith(`--${spec.long}=`));
  ctx.stderr(
    `  Error: ${long ? `option \`${spec.long}'` : `switch \`${spec.short}'`} expects a numerical value\n`,
  );
  return null;
}

type BusAction = 'start' | 'wait';

/**
 * bus_action(): runs the action on every bus each argument names (no argument, or "all", is every bus); the
 * number of buses that succeeded, else the first failure, else -ENXIO.
 */
async function busAction(
  ctx: ToolContext,
  argv: string[],
  usage: string,
  specs: OptionSpec[],
  action: BusAction,
): Promise<number | { usage: true }> {
  const parsed = parseOrUsage(ctx.stderr, usage, specs, argv);
  if (parsed === null) return { usage: true };
  const verbose = parsed.opts.verbose === true;
  let poll = 0;
  if (typeof parsed.opts.poll === 'string') {
    const p = parseUinteger(ctx, parsed.opts.poll, WAIT_OPTIONS[1]!, argv);
    if (p === null) {
      ctx.stderr(usageText(usage, specs));
      return { usage: true };
    }
    poll = p;
  }
  const idents = parsed.args.length === 0 || parsed.args.includes('all') ? ['all'] : parsed.args;
  const nctx = new NdctlCtx(ctx.kernel);
  const jbuses: JsonValue[] = [];
  let success = 0;
  let fail = 0;
  for (const ident of idents) {
    let found = 0;
    for (const bus of nctx.buses()) {
      if (!utilBusFilter(bus, ident)) continue;
      found++;
      const rc =
        action === 'start' ? await ndctlBusStartScrub(bus) : await ndctlBusPollScrubCompletion(bus, poll, 0);
      if (rc === 0) {
        success++;
        jbuses.push(busToJson(ctx.kernel, bus, { human: true }));
      } else if (fail === 0) fail = rc;
    }
    if (found === 0 && verbose) ctx.stderr(`no bus matches id: ${ident}\n`);
  }
  if (success > 0) displayJsonArray(ctx, jbuses, {});
  if (success > 0) return success;
  return fail !== 0 ? fail : neg('ENXIO');
}

async function scrubCommand(
  ctx: ToolContext,
  argv: string[],
  action: BusAction,
  usage: string,
  specs: OptionSpec[],
  what: string,
): Promise<number> {
  const n = await busAction(ctx, argv, usage, specs, action);
  if (typeof n !== 'number') return USAGE_EXIT;
  if (n > 0) return 0;
  ctx.stderr(`error ${what}: ${strerror(-n)}\n`);
  return n & 0xff;
}

/**
 * cmd_start_scrub(): `ndctl start-scrub [<bus-id>...] [-v]`: starts address range scrub on each bus; prints the
 * buses started, or "error starting scrub: <reason>" and exits with the errno.
 */
export function cmdStartScrub(ctx: ToolContext, argv: string[]): Promise<number> {
  return scrubCommand(
    ctx,
    argv,
    'start',
    'ndctl start-scrub [<bus-id> <bus-id2> ... <bus-idN>] [<options>]',
    BASE_OPTIONS,
    'starting scrub',
  );
}

/**
 * cmd_wait_scrub(): `ndctl wait-scrub [<bus-id>...] [-p <seconds>] [-v]`: waits for each bus's scrub to finish;
 * prints the buses, or "error waiting for scrub completion: <reason>".
 */
export function cmdWaitScrub(ctx: ToolContext, argv: string[]): Promise<number> {
  return scrubCommand(
    ctx,
    argv,
    'wait',
    'ndctl wait-scrub [<bus-id> <bus-id2> ... <bus-idN>] [<options>]',
    WAIT_OPTIONS,
    'waiting for scrub completion',
  );
}
