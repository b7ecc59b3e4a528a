/**
 * libdaxctl (daxctl/lib/libdaxctl.c) over the sysfs of this v4.12-era kernel, which has the "dax" class
 * (/sys/class/dax/daxR.N) and no dax bus:
 * - a dax region is the `dax_region/` group (id, size, align) of the device hosting it, here the nd dax claim
 *   device; libdaxctl finds it as the grandparent of a /sys/class/dax entry (`<host>/dax/daxR.N`, the class glue
 *   directory), so a region exists only while its host is bound to dax_pmem;
 * - a device is `<host>/dax/daxR.N` with `dev`, `size` and `uevent`; `align` and `target_node` appear only in
 *   later kernels (v5.10 and v5.1), so they are null and daxctl leaves them out, as it does on such a kernel.
 *
 * The dax-class model has no disabled device-dax instance: unbinding the nd dax claim device destroys it. daxsim
 * models daxctl's enable/disable-device on that claim device (see daxctlDevEnable()), and reports a claim device
 * that has a namespace configured but no driver as a disabled device (daxctlDisabledDevs()).
 */
import { type Kernel, kerr } from '@daxsim/kernel';
import { type DaxDev, type DaxRegion, daxRegionAt } from './libndctl.js';
import { compareDevNames, ND_DEVICES, ndAttrOrNull, ndBind, ndDriverOf, ndUnbind } from './sysfs.js';

export const DAX_CLASS = '/sys/class/dax';
/** The nd driver that turns a dax claim device into a device-dax instance. */
export const DAX_PMEM_DRIVER = 'dax_pmem';

/** struct daxctl_dev, with what daxsim's enable/disable need. */
export interface DaxctlDev extends DaxDev {
  /** sysfs path of the device (the class device, or the claim device for a disabled one). */
  readonly path: string;
  /** The nd dax claim device (daxR.M on /sys/bus/nd) that provides /dev/<name>. */
  readonly claim: string;
}

/** struct daxctl_region. */
export interface DaxctlRegion extends DaxRegion {
  readonly devices: DaxctlDev[];
  /** The nd dax claim device hosting the region. */
  readonly claim: string;
}

const dirname = (p: string): string => p.slice(0, p.lastIndexOf('/'));
const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/**
 * add_dax_region() and dax_devices_init() for the device at sysfs path `path` hosting region `id` (through
 * libndctl.ts's daxRegionAt(), which ndctl list -X shares); null when it has no dax_region group (its host is not
 * bound to dax_pmem).
 */
export function daxctlRegionAt(k: Kernel, id: number, path: string): DaxctlRegion | null {
  const region = daxRegionAt(k, id, path);
  const { size, align } = region;
  if (size === null || align === null) return null;
  const claim = basename(path);
  const devices = region.devices.map((d) => ({ ...d, path: `${path}/dax/${d.name}`, claim }));
  return { ...region, size, align, devices, claim };
}

/**
 * daxctl_region_foreach(): the regions of every /sys/class/dax/daxR.N (the grandparent of its real path), one
 * per host, ordered by region id and then host name.
 */
export function daxctlRegions(k: Kernel): DaxctlRegion[] {
  if (!k.sysfs.exists(DAX_CLASS)) return [];
  const hosts = new Map<string, number>();
  for (const name of k.sysfs.readdir(DAX_CLASS)) {
    const m = /^dax(\d+)\.(\d+)$/.exec(name);
    if (m === null) continue;
    const path = dirname(dirname(k.sysfs.realpath(`${DAX_CLASS}/${name}`)));
    if (!hosts.has(path)) hosts.set(path, Number(m[1]));
  }
  const regions: DaxctlRegion[] = [];
  for (const [path, id] of hosts) {
    const region = daxctlRegionAt(k, id, path);
    if (region !== null) regions.push(region);
  }
  return regions.sort((a, b) => a.id - b.id || compareDevNames(a.claim, b.claim));
}

/**
 * ndctl_dax_get_daxctl_region(): the region hosted by nd dax claim device `claim`, or null while it is not
 * enabled. The region id is the one in the claim's name (that of its nd region).
 */
export function daxctlRegionOfClaim(k: Kernel, claim: string): DaxctlRegion | null {
  const m = /^dax(\d+)\.\d+$/.exec(claim);
  if (m === null || !k.sysfs.exists(`${ND_DEVICES}/${claim}`)) return null;
  return daxctlRegionAt(k, Number(m[1]), k.sysfs.realpath(`${ND_DEVICES}/${claim}`));
}

/**
 * The disabled devices: nd dax claim devices with a namespace configured ("namespaceR.N") and no driver. Each
 * is named as dax_pmem would name its instance, daxR.N after the namespace; size 0 (the claim's size is only
 * readable while bound, and there is no instance to read one from), no align or target_node (as for an enabled
 * device on this kernel), enabled false.
 */
export function daxctlDisabledDevs(k: Kernel): DaxctlDev[] {
  const out: DaxctlDev[] = [];
  for (const claim of k.sysfs.readdir(ND_DEVICES).sort(compareDevNames)) {
    if (!/^dax\d+\.\d+$/.test(claim) || ndDriverOf(k, claim) !== null) continue;
    const m = /^namespace(\d+)\.(\d+)$/.exec(ndAttrOrNull(k, claim, 'namespace') ?? '');
    if (m === null) continue;
    out.push({
      name: `dax${m[1]}.${m[2]}`,
      id: Number(m[2]),
      regionId: Number(m[1]),
      size: 0,
      align: null,
      targetNode: null,
      enabled: false,
      mode: 'devdax',
      path: k.sysfs.realpath(`${ND_DEVICES}/${claim}`),
      claim,
    });
  }
  return out;
}

/**
 * Every device, enabled (those of daxctlRegions()) or disabled (daxctlDisabledDevs()), by region id then id:
 * what daxctl_region_foreach() + daxctl_dev_foreach() visit on a kernel where disabled devices keep a region.
 */
export function daxctlDevs(k: Kernel): DaxctlDev[] {
  return [...daxctlRegions(k).flatMap((r) => r.devices), ...daxctlDisabledDevs(k)].sort(
    (a, b) => a.regionId - b.regionId || a.id - b.id,
  );
}

/** util_daxctl_region_filter(): `ident` null or "all", or "<id>" / "region<id>" naming the region's id. */
export function daxctlRegionFilter(regionId: number, ident: string | null): boolean {
  if (ident === null || ident === 'all') return true;
  const m = /^(?:\s*([+-]?\d+)|region\s*([+-]?\d+))/.exec(ident);
  return m !== null && Number(m[1] ?? m[2]) === regionId;
}

/** util_daxctl_dev_filter(): `ident` null or "all", the device name, or "<region>.<id>". */
export function daxctlDevFilter(dev: DaxDev, ident: string | null): boolean {
  if (ident === null || ident === 'all' || ident === dev.name) return true;
  const m = /^\s*([+-]?\d+)\.\s*([+-]?\d+)/.exec(ident);
  return m !== null && Number(m[1]) === dev.regionId && Number(m[2]) === dev.id;
}

/** daxctl_dev_is_enabled(): whether the claim providing `dev` is bound to dax_pmem. */
export function daxctlDevIsEnabled(k: Kernel, dev: DaxctlDev): boolean {
  return ndDriverOf(k, dev.claim) === DAX_PMEM_DRIVER;
}

/**
 * daxctl_dev_enable_devdax(), modeled for the dax-class kernel: binds the claim device to dax_pmem, which
 * creates the region and /dev/<name>. No-op when enabled. Throws the bind's errno, or ENXIO when the device is
 * still not enabled afterwards; `log` gets libdaxctl's error line then.
 */
export async function daxctlDevEnable(k: Kernel, dev: DaxctlDev, log: (text: string) => void): Promise<void> {
  if (daxctlDevIsEnabled(k, dev)) return;
  let failure: unknown = null;
  try {
    await ndBind(k, DAX_PMEM_DRIVER, dev.claim);
  } catch (e) {
    failure = e;
  }
  if (!daxctlDevIsEnabled(k, dev)) {
    log(`libdaxctl: daxctl_dev_enable: ${dev.name}: failed to enable\n`);
    throw failure ?? kerr('ENXIO', 'daxctl_dev_enable');
  }
}

/**
 * daxctl_dev_disable(), modeled for the dax-class kernel: unbinds the claim device from dax_pmem, which
 * unregisters the device-dax instance (mappings of it are zapped; their next access is SIGBUS) and its region.
 * No-op when disabled. Throws EBUSY when the device is still enabled afterwards.
 */
export async function daxctlDevDisable(
  k: Kernel,
  dev: DaxctlDev,
  log: (text: string) => void,
): Promise<void> {
  if (!daxctlDevIsEnabled(k, dev)) return;
  try {
    await ndUnbind(k, dev.claim);
  } catch {
    // daxctl_unbind()'s status is ignored; the enabled check below decides
  }
  if (daxctlDevIsEnabled(k, dev)) {
    log(`libdaxctl: daxctl_dev_disable: ${dev.name}: failed to disable\n`);
    throw kerr('EBUSY', 'daxctl_dev_disable');
  }
}
