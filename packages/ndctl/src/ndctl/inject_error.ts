/**
 * ndctl/inject-error.c (ndctl v78): `ndctl inject-error <namespace> -B <block> -n <count> [-d] [-t] [-N] [-S]
 * [-u]`: injects (or with -d un-injects) media errors into a namespace's blocks through the NFIT bus's ARS
 * error-injection functions, then prints the namespace with its media errors; -t prints the injected blocks.
 * With notification (the default) it waits for the scrub the platform's notification starts, so the new
 * errors show up as badblocks. A `sleep(1)` of the C is one turn of the kernel's queued work here.
 */
import type { ToolContext } from '../context.js';
import {
  NDCTL_NS_INJECT_NOTIFY,
  NDCTL_NS_INJECT_SATURATE,
  ndctlNamespaceInjectError2,
  ndctlNamespaceInjectionStatus,
  ndctlNamespaceUninjectError2,
} from '../lib/inject.js';
import { ndctlBusHasErrorInjection } from '../lib/ioctl.js';
import { NdctlCtx, type NdNamespace } from '../lib/libndctl.js';
import { type NdConfigCtx, ndConfigNew, neg } from '../lib/namespace_config.js';
import { ndctlBusGetScrubCount, ndctlBusWaitForScrubCompletion, scrubPollTick } from '../lib/scrub.js';
import { strerror } from '../lib/strerror.js';
import { type JsonFlags, jsonHex, namespaceToJson, printJson } from '../util/json.js';
import { type OptionSpec, parseOrUsage, USAGE_EXIT, usageText } from '../util/parse_options.js';
import { parseSize64 } from '../util/size.js';
import { utilRegions } from './filter.js';
import { BASE_OPTIONS, optString } from './options.js';

const OPTIONS: readonly OptionSpec[] = [
  ...BASE_OPTIONS,
  {
    name: 'block',
    short: 'B',
    long: 'block',
    kind: 'string',
    arg: 'namespace block offset (512B)',
    help: 'specify the block at which to (un)inject the error',
  },
  {
    name: 'count',
    short: 'n',
    long: 'count',
    kind: 'string',
    arg: 'count',
    help: 'specify the number of blocks of errors to (un)inject',
  },
  {
    name: 'clear',
    short: 'd',
    long: 'uninject',
    kind: 'boolean',
    help: 'un-inject a previously injected error',
  },
  { name: 'status', short: 't', long: 'status', kind: 'boolean', help: 'get error injection status' },
  { name: 'noNotify', short: 'N', long: 'no-notify', kind: 'boolean', help: 'firmware should not notify OS' },
  {
    name: 'saturate',
    short: 'S',
    long: 'saturate',
    kind: 'boolean',
    help: "inject full sector, not just 'ars_unit' bytes",
  },
  { name: 'human', short: 'u', long: 'human', kind: 'boolean', help: 'use human friendly number formats ' },
];

const USAGE = 'ndctl inject-error <namespace> [<options>]';

const OP_INJECT = 1 << 0;
const OP_CLEAR = 1 << 1;
const OP_STATUS = 1 << 2;

/** struct inject_ctx. */
interface InjectCtx {
  block: number;
  count: number;
  opMask: number;
  jsonFlags: JsonFlags;
  injectFlags: number;
}

/** error() of util/usage.c. */
const error = (ctx: ToolContext, message: string) => ctx.stderr(`  Error: ${message}\n`);

/** inject_init(): the operation and its block range from the options; -EINVAL (reported) when inconsistent. */
function injectInit(ctx: ToolContext, o: Record<string, unknown>): InjectCtx | number {
  const ictx: InjectCtx = { block: 0, count: 0, opMask: 0, jsonFlags: {}, injectFlags: 0 };
  const block = optString(o.block);
  const count = optString(o.count);
  if (o.clear !== true && o.status !== true) {
    ictx.opMask |= OP_INJECT;
    if (o.noNotify !== true) ictx.injectFlags |= 1 << NDCTL_NS_INJECT_NOTIFY;
  }
  if (o.clear === true) {
    if (o.status === true) {
      error(ctx, 'status is invalid with inject or uninject\n');
      return neg('EINVAL');
    }
    ictx.opMask |= OP_CLEAR;
  }
  if (o.status === true) {
    if (block !== undefined || count !== undefined || o.saturate === true) {
      error(ctx, 'status is invalid with inject or uninject\n');
      return neg('EINVAL');
    }
    ictx.opMask |= OP_STATUS;
  }
  for (const [key, text] of [
    ['block', block],
    ['count', count],
  ] as const) {
    if (text === undefined) continue;
    const n = parseSize64(text);
    if (n === null) {
      error(ctx, `Invalid ${key}: ${text}\n`);
      return neg('EINVAL');
    }
    ictx[key] = n;
  }
  if (ictx.opMask & (OP_INJECT | OP_CLEAR) && (block === undefined || count === undefined)) {
    error(ctx, 'block and count required for inject/uninject\n');
    return neg('EINVAL');
  }
  if (o.human === true) ictx.jsonFlags.human = true;
  if (o.saturate === true) ictx.injectFlags |= 1 << NDCTL_NS_INJECT_SATURATE;
  return ictx;
}

/**
 * ns_errors_to_json(): after a notifying injection, waits for the scrub count to pass `startCount` (up to 30
 * polls) and for that scrub to finish; then prints the namespace with its media errors.
 */
async function nsErrorsToJson(
  ctx: ToolContext,
  ictx: InjectCtx,
  ns: NdNamespace,
  startCount: number,
): Promise<number> {
  const bus = ns.region.bus;
  if (ictx.opMask & OP_INJECT && ictx.injectFlags & (1 << NDCTL_NS_INJECT_NOTIFY)) {
    let count: number | null;
    let tmo = 30;
    do {
      count = ndctlBusGetScrubCount(bus);
      if (count === null) {
        ctx.stderr('Unable to get scrub count\n');
        return neg('ENXIO');
      }
      await scrubPollTick(ctx.kernel);
    } while (count <= startCount && --tmo > 0);
    const rc = await ndctlBusWaitForScrubCompletion(bus);
    if (rc !== 0) {
      ctx.stderr('Error waiting for scrub\n');
      return rc;
    }
  }
  const jndns = namespaceToJson(ctx.kernel, ns, { ...ictx.jsonFlags, mediaErrors: true });
  if (jndns !== null) printJson(ctx, jndns);
  return 0;
}

async function injectError(
  ctx: ToolContext,
  nd: NdConfigCtx,
  ictx: InjectCtx,
  ns: NdNamespace,
): Promise<number> {
  const scrubCount = ndctlBusGetScrubCount(ns.region.bus);
  if (scrubCount === null) {
    ctx.stderr('Unable to get scrub count\n');
    return neg('ENXIO');
  }
  const rc = ndctlNamespaceInjectError2(nd, ns, ictx.block, ictx.count, ictx.injectFlags);
  if (rc !== 0) {
    ctx.stderr(`Unable to inject error: ${strerror(Math.abs(rc))} (${rc})\n`);
    return rc;
  }
  return nsErrorsToJson(ctx, ictx, ns, scrubCount);
}

async function uninjectError(
  ctx: ToolContext,
  nd: NdConfigCtx,
  ictx: InjectCtx,
  ns: NdNamespace,
): Promise<number> {
  const rc = ndctlNamespaceUninjectError2(nd, ns, ictx.block, ictx.count, ictx.injectFlags);
  if (rc !== 0) {
    ctx.stderr(`Unable to uninject error: ${strerror(Math.abs(rc))} (${rc})\n`);
    return rc;
  }
  ctx.stdout(
    "Warning: Un-injecting previously injected errors here will\nnot cause the kernel to 'forget' its badblock entries. Those\nhave to be cleared through the normal process of writing\nthe affected blocks\n\n",
  );
  return nsErrorsToJson(ctx, ictx, ns, 0);
}

/** injection_status(): {"badblocks":[{block, count}...]} of the injected blocks, printed only when any. */
function injectionStatus(ctx: ToolContext, nd: NdConfigCtx, ictx: InjectCtx, ns: NdNamespace): number {
  const bbs = ndctlNamespaceInjectionStatus(nd, ns);
  if (typeof bbs === 'number') {
    ctx.stderr(`Unable to get injection status: ${strerror(Math.abs(bbs))} (${bbs})\n`);
    return bbs;
  }
  if (bbs.length > 0)
    printJson(ctx, {
      badblocks: bbs.map((bb) => ({
        block: jsonHex(bb.block, ictx.jsonFlags),
        count: jsonHex(bb.count, ictx.jsonFlags),
      })),
    });
  return 0;
}

/** err_inject_ns(): the operations asked for, inject first. */
async function errInjectNs(
  ctx: ToolContext,
  nd: NdConfigCtx,
  ictx: InjectCtx,
  ns: NdNamespace,
): Promise<number> {
  let rc = 0;
  if (ictx.opMask & OP_INJECT) {
    rc = await injectError(ctx, nd, ictx, ns);
    if (rc !== 0) return rc;
  }
  if (ictx.opMask & OP_CLEAR) {
    rc = await uninjectError(ctx, nd, ictx, ns);
    if (rc !== 0) return rc;
  }
  if (ictx.opMask & OP_STATUS) rc = injectionStatus(ctx, nd, ictx, ns);
  return rc;
}

/** do_inject(): finds the namespace (within -b and -r) on a bus that supports error injection. */
async function doInject(
  ctx: ToolContext,
  ictx: InjectCtx,
  name: string,
  bus?: string,
  region?: string,
): Promise<number> {
  for (const r of utilRegions(new NdctlCtx(ctx.kernel), bus, region)) {
    const ns = r.namespaces().find((n) => n.devname === name);
    if (ns === undefined) continue;
    if (!ndctlBusHasErrorInjection(r.bus)) {
      ctx.stderr(`${name}: error injection not supported\n`);
      return neg('EOPNOTSUPP');
    }
    return errInjectNs(ctx, ndConfigNew(ctx), ictx, ns);
  }
  error(ctx, `${name}: no such namespace\n`);
  return neg('ENXIO');
}

/**
 * cmd_inject_error(): `ndctl inject-error <namespace> -B <block> -n <count> [-d|--uninject] [-t|--status]
 * [-N|--no-notify] [-S|--saturate] [-u] [-b bus] [-r region]`; exits with the failure's errno (& 0xff).
 */
export async function cmdInjectError(ctx: ToolContext, argv: string[]): Promise<number> {
  const parsed = parseOrUsage(ctx.stderr, USAGE, OPTIONS, argv);
  if (parsed === null) return USAGE_EXIT;
  const ictx = injectInit(ctx, parsed.opts);
  if (typeof ictx === 'number') return ictx & 0xff;
  const args = parsed.args;
  if (args.length === 0) error(ctx, 'specify a namespace to inject error to\n');
  for (const extra of args.slice(1)) error(ctx, `unknown extra parameter "${extra}"\n`);
  if (args.length !== 1) {
    ctx.stderr(usageText(USAGE, OPTIONS));
    return USAGE_EXIT;
  }
  const { bus, region } = parsed.opts;
  return (await doInject(ctx, ictx, args[0]!, optString(bus), optString(region))) & 0xff;
}
