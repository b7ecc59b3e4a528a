/**
 * daxctl/device.c: `daxctl enable-device` and `daxctl disable-device` (parse_device_options(), do_xaction_device(),
 * do_xble()).
 *
 * Departure: real daxctl refuses both on a dax-class kernel like this one ("device model is dax-class",
 * EOPNOTSUPP), since they bind and unbind a device on the dax bus (v5.1+). daxsim models them on the nd dax claim
 * device that provides /dev/daxR.N (see daxctlDevEnable()/daxctlDevDisable() in lib/libdaxctl.ts): disabling
 * destroys the instance as unbinding the claim does (a task that has it mapped gets SIGBUS on its next access),
 * enabling probes it again.
 */
import type { ToolCommand, ToolContext } from '../context.js';
import {
  daxctlDevDisable,
  daxctlDevEnable,
  daxctlDevFilter,
  daxctlDevs,
  daxctlRegionFilter,
} from '../lib/libdaxctl.js';
import { libcStrerror, negErrno } from '../lib/strerror.js';
import { type OptionSpec, parseOrUsage, USAGE_EXIT, usageText } from '../util/parse_options.js';

/** BASE_OPTIONS() of device.c. */
const BASE_OPTIONS: readonly OptionSpec[] = [
  { name: 'region', short: 'r', long: 'region', kind: 'string', arg: 'region-id', help: 'filter by region' },
  { name: 'human', short: 'u', long: 'human', kind: 'boolean', help: 'use human friendly number formats' },
  { name: 'verbose', short: 'v', long: 'verbose', kind: 'boolean', help: 'emit more debug messages' },
];

type Action = 'enable' | 'disable';

/**
 * parse_device_options(): the device argument's basename, or null after printing the usage (no device, or
 * extra parameters). `askedFor` is the verb of the "specify a device" message (enable-device passes
 * ACTION_DISABLE there, so daxctl says "disable" for both).
 */
function parseDeviceOptions(
  ctx: ToolContext,
  argv: string[],
  usage: string,
  askedFor: string,
): { device: string; region: string | null } | null {
  const parsed = parseOrUsage(ctx.stderr, usage, BASE_OPTIONS, argv);
  if (parsed === null) return null;
  const { opts, args } = parsed;
  let bad = false;
  if (args.length === 0) {
    ctx.stderr(`specify a device to ${askedFor}, or "all"\n`);
    bad = true;
  }
  for (const extra of args.slice(1)) {
    ctx.stderr(`unknown extra parameter "${extra}"\n`);
    bad = true;
  }
  if (bad) {
    ctx.stderr(usageText(usage, BASE_OPTIONS));
    return null;
  }
  const device = args[0]!.replace(/\/+$/, '');
  return {
    device: device.slice(device.lastIndexOf('/') + 1),
    region: typeof opts.region === 'string' ? opts.region : null,
  };
}

/** do_xaction_device() with do_xble(): the last failure's negative errno (0 when none), and how many succeeded. */
async function xactionDevice(
  ctx: ToolContext,
  device: string,
  region: string | null,
  action: Action,
): Promise<{ rc: number; processed: number }> {
  const k = ctx.kernel;
  let saved = 0;
  let processed = 0;
  for (const dev of daxctlDevs(k)) {
    if (!daxctlRegionFilter(dev.regionId, region) || !daxctlDevFilter(dev, device)) continue;
    try {
      if (action === 'enable') await daxctlDevEnable(k, dev, ctx.stderr);
      else await daxctlDevDisable(k, dev, ctx.stderr);
      processed++;
    } catch (e) {
      ctx.stderr(`${dev.name}: ${action} failed: ${libcStrerror(e)}\n`);
      saved = negErrno(e);
    }
  }
  return { rc: saved, processed };
}

async function run(ctx: ToolContext, argv: string[], action: Action): Promise<number> {
  const usage = `daxctl ${action}-device <device>`;
  const parsed = parseDeviceOptions(ctx, argv, usage, 'disable');
  if (parsed === null) return USAGE_EXIT;
  const { rc, processed } = await xactionDevice(ctx, parsed.device, parsed.region, action);
  if (rc < 0)
    ctx.stderr(`error ${action === 'enable' ? 'enabling' : 'disabling'} device: ${libcStrerror(rc)}\n`);
  ctx.stderr(`${action}d ${processed} device${processed === 1 ? '' : 's'}\n`);
  return rc & 0xff;
}

/** cmd_enable_device(): `daxctl enable-device <device>|all [-r region]`. */
export const cmdEnableDevice: ToolCommand = (ctx, argv) => run(ctx, argv, 'enable');

/** cmd_disable_device(): `daxctl disable-device <device>|all [-r region]`. */
export const cmdDisableDevice: ToolCommand = (ctx, argv) => run(ctx, argv, 'disable');
