/**
 * ndctl/region.c: enable-region and disable-region over one region, a region id, or "all", filtered by bus and
 * type. Disabling first disables every namespace of the region safely (claim devices first); a namespace that
 * refuses leaves its region enabled and uncounted.
 */
import type { ToolContext } from '../context.js';
import { NdctlCtx, type NdRegion } from '../lib/libndctl.js';
import {
  type NdConfigCtx,
  ndConfigNew,
  ndctlNamespaceDisableSafe,
  ndctlRegionDisableInvalidate,
  ndctlRegionEnable,
} from '../lib/namespace_config.js';
import { type OptionSpec, parseOrUsage, USAGE_EXIT, usageText } from '../util/parse_options.js';
import { utilRegions } from './filter.js';
import { optString } from './options.js';

const REGION_OPTIONS: OptionSpec[] = [
  {
    name: 'bus',
    short: 'b',
    long: 'bus',
    kind: 'string',
    arg: 'bus-id',
    help: '<region> must be on a bus with an id/provider of <bus-id>',
  },
  {
    name: 'type',
    short: 't',
    long: 'type',
    kind: 'string',
    arg: 'region-type',
    help: '<region> must be of the specified type',
  },
];

type RegionAction = 'enable' | 'disable';

/** region_action(): enable, or disable each namespace safely and then the region; 0 or a negative errno. */
async function regionAction(nd: NdConfigCtx, region: NdRegion, action: RegionAction): Promise<number> {
  if (action === 'enable') return ndctlRegionEnable(nd, region.devname);
  for (const ns of region.namespaces()) {
    const rc = await ndctlNamespaceDisableSafe(nd, ns.devname);
    if (rc) return rc;
  }
  return ndctlRegionDisableInvalidate(nd, region.devname);
}

/** cmd_{enable,disable}_region(): parse_region_options(), do_xable_region(), then the count on stderr. */
async function xableRegion(ctx: ToolContext, argv: string[], action: RegionAction): Promise<number> {
  const usage = `ndctl ${action}-region <region> [<options>]`;
  const parsed = parseOrUsage(ctx.stderr, usage, REGION_OPTIONS, argv);
  if (parsed === null) return USAGE_EXIT;
  const error = (message: string) => ctx.stderr(`  Error: ${message}\n`);
  const { args } = parsed;
  const bus = optString(parsed.opts.bus);
  const type = optString(parsed.opts.type);
  if (args.length === 0) error('specify a specific region id to act on, or "all"\n');
  for (let i = 1; i < args.length; i++) error(`unknown extra parameter "${args[i]}"\n`);
  if (args.length !== 1) {
    ctx.stderr(usageText(usage, REGION_OPTIONS));
    return USAGE_EXIT;
  }
  if (type !== undefined && type !== 'pmem' && type !== 'blk') {
    error(`unknown region type '${type}', should be 'pmem' or 'blk'\n`);
    ctx.stderr(usageText(usage, REGION_OPTIONS));
    return USAGE_EXIT;
  }

  const nd = ndConfigNew(ctx);
  let success = 0;
  for (const region of utilRegions(new NdctlCtx(ctx.kernel), bus, args[0])) {
    if (type !== undefined && type !== region.type) continue;
    if ((await regionAction(nd, region, action)) === 0) success++;
  }
  const past = action === 'enable' ? 'enabled' : 'disabled';
  ctx.stderr(success === 0 ? `${past} 0 regions\n` : `${past} ${success} region${success > 1 ? 's' : ''}\n`);
  return 0;
}

/** cmd_enable_region(): `ndctl enable-region <region>|all [-b bus] [-t type]`; binds each region to nd_region. */
export function cmdEnableRegion(ctx: ToolContext, argv: string[]): Promise<number> {
  return xableRegion(ctx, argv, 'enable');
}

/**
 * cmd_disable_region(): `ndctl disable-region <region>|all [-b bus] [-t type]`; disables the region's
 * namespaces, then unbinds the region.
 */
export function cmdDisableRegion(ctx: ToolContext, argv: string[]): Promise<number> {
  return xableRegion(ctx, argv, 'disable');
}
