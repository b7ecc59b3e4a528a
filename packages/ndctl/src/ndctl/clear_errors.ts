/**
 * ndctl/namespace.c's clear-errors (ndctl v78): `ndctl clear-errors <namespace>|all [-s] [-r region] [-b bus]
 * [-v]`. For each namespace named: wait for any scrub (starting one first, once per bus, with --scrub);
 * disable it; clear, through ND_CMD_ARS_CAP + ND_CMD_CLEAR_ERROR on /dev/ndctlN, every region badblock run
 * that lies wholly inside the namespace's data area (the pfn/dax data in fsdax/devdax mode, everything when
 * raw); enable it again and print it with its media errors. Sector (btt) namespaces are skipped. The kernel
 * forgets the cleared ranges (bus list, region badblocks) as the ioctl completes, and the re-enabled
 * namespace's disk starts from that list, so sysfs badblocks agree afterwards.
 */
import type { ToolContext } from '../context.js';
import {
  ndctlBusCmdNewArsCap,
  ndctlBusCmdNewClearError,
  ndctlCmdArsCapGetRange,
  ndctlCmdClearErrorGetCleared,
  ndctlCmdSubmitXlat,
} from '../lib/ioctl.js';
import { findNamespace, type NdBus, NdctlCtx, type NdNamespace } from '../lib/libndctl.js';
import {
  type NdConfigCtx,
  ndConfigNew,
  ndctlNamespaceDisableSafe,
  ndctlNamespaceEnable,
  neg,
} from '../lib/namespace_config.js';
import { ndctlBusGetScrubState, ndctlBusStartScrub, ndctlBusWaitForScrubCompletion } from '../lib/scrub.js';
import { strerror } from '../lib/strerror.js';
import { namespaceToJson, printJson } from '../util/json.js';
import { type OptionSpec, parseOrUsage, USAGE_EXIT, usageText } from '../util/parse_options.js';
import { utilRegions } from './filter.js';
import { xactionSelects } from './namespace.js';
import { BASE_OPTIONS, optString } from './options.js';

const OPTIONS: readonly OptionSpec[] = [
  ...BASE_OPTIONS,
  { name: 'scrub', short: 's', long: 'scrub', kind: 'boolean', help: 'run a scrub to find latent errors' },
];

const USAGE = 'ndctl clear_errors <namespace> [<options>]';

/** One run: namespace.c's statics (verbose, err_count, cmd_name). */
class ClearErrors {
  readonly nd: NdConfigCtx;
  errCount = 0;

  constructor(
    readonly ctx: ToolContext,
    readonly verbose: boolean,
  ) {
    this.nd = ndConfigNew(ctx);
  }

  error(message: string): void {
    this.ctx.stderr(`  Error: ${message}\n`);
  }

  /** namespace.c's err(): counted, prefixed with the command name. */
  err(message: string): void {
    this.errCount++;
    this.error(`clear errors namespace: ${message}`);
  }

  debug(fn: string, line: number, message: string): void {
    if (this.verbose) this.ctx.stderr(`${fn}:${line}: ${message}`);
  }

  /** bus_send_clear(): ars_cap over the range, then a clear_error of exactly that range. */
  busSendClear(ns: NdNamespace, start: number, size: number): number {
    const bus = ns.region.bus;
    const busname = bus.provider;
    const cap = ndctlBusCmdNewArsCap(bus, start, size);
    if (cap === null) {
      this.err(`bus: ${busname} failed to create cmd\n`);
      return neg('ENOTTY');
    }
    let rc = ndctlCmdSubmitXlat(this.nd, cap);
    if (rc < 0) {
      this.err(`bus: ${busname} failed to submit cmd: ${rc}\n`);
      return rc;
    }
    const range = ndctlCmdArsCapGetRange(cap);
    if (range === null) {
      this.err(`bus: ${busname} failed to get ars_cap range\n`);
      return neg('ENXIO');
    }
    const clear = ndctlBusCmdNewClearError(range.address, range.length, cap);
    if (clear === null) {
      this.err(`bus: ${busname} failed to create cmd\n`);
      return neg('ENOTTY');
    }
    rc = ndctlCmdSubmitXlat(this.nd, clear);
    if (rc < 0) {
      this.err(`bus: ${busname} failed to submit cmd: ${rc}\n`);
      return rc;
    }
    const cleared = ndctlCmdClearErrorGetCleared(clear);
    if (cleared !== range.length) {
      this.err(`bus: ${busname} expected to clear: ${range.length} actual: ${cleared}\n`);
      return neg('ENXIO');
    }
    return 0;
  }

  /**
   * nstype_clear_badblocks(): clears each region badblock run wholly inside [begin, begin+size), stopping at
   * the first failure (which, as in ndctl, the re-enable's result then replaces), and re-enables the namespace.
   */
  async nstypeClearBadblocks(ns: NdNamespace, devname: string, begin: number, size: number): Promise<number> {
    const region = ns.region;
    const regionBegin = region.resource();
    if (regionBegin === null) {
      if ((await ndctlNamespaceEnable(this.nd, ns.devname)) < 0)
        this.error(`${devname}: failed to reenable namespace\n`);
      return neg('ENXIO');
    }
    const end = begin + size - 1;
    let cleared = 0;
    for (const bb of region.badblocks()) {
      const bbBegin = regionBegin + bb.offset * 512;
      const bbLen = bb.len * 512;
      if (bbBegin < begin || bbBegin + bbLen - 1 > end) continue;
      if (this.busSendClear(ns, bbBegin, bbLen) !== 0) {
        this.error(`${devname}: failed to clear badblock at {${bb.offset}, ${bb.len}}\n`);
        break;
      }
      cleared += bb.len;
    }
    this.debug('nstype_clear_badblocks', 1402, `${devname}: cleared ${cleared} badblocks\n`);
    const rc = await ndctlNamespaceEnable(this.nd, ns.devname);
    return Math.min(rc, 0);
  }

  /** {dax,pfn,raw}_clear_badblocks(): the data area of the claim (or namespace), disabled for the clear. */
  async claimClearBadblocks(
    ns: NdNamespace,
    devname: string,
    begin: number | null,
    size: number | null,
  ): Promise<number> {
    if (begin === null || size === null) return neg('ENXIO');
    const rc = await ndctlNamespaceDisableSafe(this.nd, ns.devname);
    if (rc !== 0) {
      this.error(`${devname}: unable to disable namespace: ${strerror(-rc)}\n`);
      return rc;
    }
    return this.nstypeClearBadblocks(ns, devname, begin, size);
  }

  /** namespace_wait_scrub(): starts a scrub when asked and none runs, then waits for any scrub to finish. */
  async waitScrub(ns: NdNamespace, doScrub: boolean): Promise<number> {
    const bus = ns.region.bus;
    const inProgress = ndctlBusGetScrubState(bus);
    if (inProgress < 0) {
      this.error(`${ns.devname}: Unable to determine scrub state: ${strerror(-inProgress)}\n`);
      return inProgress;
    }
    if (doScrub && inProgress === 0) {
      const rc = await ndctlBusStartScrub(bus);
      if (rc !== 0) {
        this.error(`${ns.devname}: Unable to start scrub: ${strerror(-rc)}\n`);
        return rc;
      }
    }
    const rc = await ndctlBusWaitForScrubCompletion(bus);
    if (rc !== 0) {
      this.error(`${ns.devname}: Error waiting for scrub: ${strerror(-rc)}\n`);
      return rc;
    }
    return 0;
  }

  /** namespace_clear_bb(): 0 when cleared (and printed), 1 for a skipped btt namespace, else an error. */
  async namespaceClearBb(ns: NdNamespace, doScrub: boolean): Promise<number> {
    const btt = ns.btt();
    if (btt !== null) {
      this.debug('namespace_clear_bb', 1528, `${btt.devname}: skip error clearing for btt\n`);
      return 1;
    }
    let rc = await this.waitScrub(ns, doScrub);
    if (rc !== 0) return rc;
    const dax = ns.dax();
    const pfn = ns.pfn();
    if (dax !== null) rc = await this.claimClearBadblocks(ns, dax.devname, dax.resource, dax.size);
    else if (pfn !== null) rc = await this.claimClearBadblocks(ns, pfn.devname, pfn.resource, pfn.size);
    else rc = await this.claimClearBadblocks(ns, ns.devname, ns.resource, ns.size);
    if (rc !== 0) return rc;
    const fresh = findNamespace(new NdctlCtx(this.ctx.kernel), ns.devname);
    const jndns = fresh === null ? null : namespaceToJson(this.ctx.kernel, fresh, { mediaErrors: true });
    if (jndns !== null) printJson(this.ctx, jndns);
    return 0;
  }
}

/**
 * cmd_clear_errors(): clears the known media errors of the namespace named (or all), one scrub per bus with
 * --scrub; prints each namespace cleared, then "cleared N namespace(s)"; exits with the last failure's errno.
 */
export async function cmdClearErrors(ctx: ToolContext, argv: string[]): Promise<number> {
  const parsed = parseOrUsage(ctx.stderr, USAGE, OPTIONS, argv);
  if (parsed === null) return USAGE_EXIT;
  const o = parsed.opts;
  const c = new ClearErrors(ctx, o.verbose === true);
  const args = parsed.args;
  let bad = false;
  if (args.length === 0) {
    c.error('specify a namespace to clear errors for, or "all"\n');
    bad = true;
  }
  for (const extra of args.slice(1)) {
    c.error(`unknown extra parameter "${extra}"\n`);
    bad = true;
  }
  if (bad) {
    ctx.stderr(usageText(USAGE, OPTIONS));
    return USAGE_EXIT;
  }
  const namespace = args[0]!;
  let rc = namespace === 'all' ? 0 : neg('ENXIO');
  let processed = 0;
  // with --scrub, the first namespace walked on each bus asks for that bus's one scrub
  const scrubbed = new Set<NdBus>();
  for (const region of utilRegions(new NdctlCtx(ctx.kernel), optString(o.bus), optString(o.region))) {
    for (const ns of region.namespaces()) {
      if (!xactionSelects(ns, namespace)) continue;
      rc = await c.namespaceClearBb(ns, o.scrub === true && !scrubbed.has(region.bus));
      scrubbed.add(region.bus);
      if (rc === 0) processed++;
    }
  }
  if (rc < 0 && c.errCount === 0) ctx.stderr(`error clearing namespaces: ${strerror(-rc)}\n`);
  ctx.stderr(`cleared ${processed} namespace${processed === 1 ? '' : 's'}\n`);
  return rc & 0xff;
}
