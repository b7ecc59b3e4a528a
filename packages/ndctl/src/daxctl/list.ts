/**
 * daxctl/list.c: `daxctl list` with -r/--region, -d/--dev, -D/--devices, -R/--regions, -M/--mappings,
 * -i/--idle and -u/--human, and the device-list half of daxctl/json.c (util_daxctl_devs_to_list()).
 *
 * With neither -R nor -D, a region filter implies -R and a device filter -D, and with no filter either devices are
 * listed. Devices are listed region by region; a device of size 0 only with -i. On this kernel a disabled device
 * (see daxctlDisabledDevs()) has no region, so it shows in the device list (-D) with -i but under no region (-R).
 * -M adds nothing: device mappings (`mappingN`) arrived with v5.10.
 */
import type { Kernel } from '@daxsim/kernel';
import type { ToolCommand } from '../context.js';
import {
  type DaxctlDev,
  daxctlDevFilter,
  daxctlDevs,
  daxctlRegionFilter,
  daxctlRegions,
} from '../lib/libdaxctl.js';
import {
  daxDevToJson,
  daxRegionToJson,
  displayJsonArray,
  type JsonFlags,
  type JsonObject,
} from '../util/json.js';
import { type OptionSpec, parseOrUsage, USAGE_EXIT, usageText } from '../util/parse_options.js';

const USAGE = 'daxctl list [<options>]';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'region', short: 'r', long: 'region', kind: 'string', arg: 'region-id', help: 'filter by region' },
  {
    name: 'dev',
    short: 'd',
    long: 'dev',
    kind: 'string',
    arg: 'dev-id',
    help: 'filter by dax device instance name',
  },
  { name: 'devs', short: 'D', long: 'devices', kind: 'boolean', help: 'include dax device info' },
  { name: 'regions', short: 'R', long: 'regions', kind: 'boolean', help: 'include dax region info' },
  { name: 'mappings', short: 'M', long: 'mappings', kind: 'boolean', help: 'include dax mappings info' },
  { name: 'idle', short: 'i', long: 'idle', kind: 'boolean', help: 'include idle devices' },
  { name: 'human', short: 'u', long: 'human', kind: 'boolean', help: 'use human friendly number formats ' },
];

/**
 * util_daxctl_devs_to_list(): appends to `out` the JSON of the devices of `devs` that `ident` selects, leaving
 * out those of size 0 unless `flags.idle`.
 */
export function daxctlDevsToList(
  k: Kernel,
  devs: readonly DaxctlDev[],
  ident: string | null,
  flags: JsonFlags,
  out: JsonObject[],
): JsonObject[] {
  for (const dev of devs) {
    if (!daxctlDevFilter(dev, ident)) continue;
    if (!flags.idle && dev.size === 0) continue;
    out.push(daxDevToJson(k, dev, flags));
  }
  return out;
}

/** cmd_list() of daxctl. */
export const cmdDaxctlList: ToolCommand = async (ctx, argv) => {
  const parsed = parseOrUsage(ctx.stderr, USAGE, OPTIONS, argv);
  if (parsed === null) return USAGE_EXIT;
  const { opts, args } = parsed;
  if (args.length > 0) {
    for (const a of args) ctx.stderr(`  Error: unknown parameter "${a}"\n\n`);
    ctx.stderr(usageText(USAGE, OPTIONS));
    return USAGE_EXIT;
  }
  const regionIdent = typeof opts.region === 'string' ? opts.region : null;
  const devIdent = typeof opts.dev === 'string' ? opts.dev : null;
  let listRegions = opts.regions === true;
  let listDevs = opts.devs === true;
  if (!listRegions && !listDevs) {
    listRegions = regionIdent !== null;
    listDevs = devIdent !== null;
  }
  if (!listRegions && !listDevs) listDevs = true;
  const flags: JsonFlags = { human: opts.human === true, idle: opts.idle === true, daxDevices: listDevs };

  const k = ctx.kernel;
  if (listRegions) {
    const jregions: JsonObject[] = [];
    for (const region of daxctlRegions(k).filter((r) => daxctlRegionFilter(r.id, regionIdent))) {
      const jregion = daxRegionToJson(k, region, devIdent, flags);
      if (jregion !== null) jregions.push(jregion);
    }
    if (jregions.length > 0) displayJsonArray(ctx, jregions, flags);
    return 0;
  }
  const devs = daxctlDevs(k).filter((d) => daxctlRegionFilter(d.regionId, regionIdent));
  const jdevs = daxctlDevsToList(k, devs, devIdent, flags, []);
  if (jdevs.length > 0) displayJsonArray(ctx, jdevs, flags);
  return 0;
};
