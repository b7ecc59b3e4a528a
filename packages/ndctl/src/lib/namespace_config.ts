/**
 * libndctl's configuration side (ndctl/lib/libndctl.c): the accessors and setters ndctl's namespace and region
 * commands use to turn a region's idle seeds into namespaces and back — namespace uuid/alt_name/size, the pfn
 * and dax claim devices (uuid, mode, align, namespace link), enable/disable through the drivers' bind files,
 * disable_safe/disable_invalidate and delete. Devices are named, not cached: every accessor reads sysfs at the
 * moment it is called. Setters return 0 or a negative errno, as the library does.
 */
import { errnoValue, isErrno, type Kernel, O_RDWR } from '@daxsim/kernel';
import type { ToolContext } from '../context.js';
import {
  ND_DEVICE_NAMESPACE_BLK,
  ND_DEVICE_NAMESPACE_IO,
  ND_DEVICE_NAMESPACE_PMEM,
  type NdNamespaceMode,
  namespaceModeOf,
  sysfsReadAttr,
} from './libndctl.js';
import { classChildren, ND_DEVICES, ND_DRIVERS, sysfsWriteAttr, waitProbe } from './sysfs.js';

export { ND_DEVICE_NAMESPACE_BLK, ND_DEVICE_NAMESPACE_IO, ND_DEVICE_NAMESPACE_PMEM };
/** ND_MIN_NAMESPACE_SIZE: below it a pmem namespace is not configured. */
export const ND_MIN_NAMESPACE_SIZE = 4096;
/** NSLABEL_NAME_LEN: alt_name holds at most 63 bytes. */
export const NSLABEL_NAME_LEN = 64;
export const SZ_4K = 4096;
export const SZ_2M = 2 * 1024 * 1024;

/** enum ndctl_namespace_mode, by the names util_nsmode_name() prints. */
export type NdctlNamespaceMode = Exclude<NdNamespaceMode, 'unknown'>;

/** enum ndctl_pfn_loc: where the memmap lives ("ram" is map=mem, "pmem" is map=dev). */
export type NdctlPfnLoc = 'none' | 'ram' | 'pmem';

/** The three claim device kinds a namespace can be held by. */
export type NdctlClaimKind = 'pfn' | 'dax' | 'btt';

/**
 * struct ndctl_ctx as far as the configuration calls need it: the kernel reached through sysfs and /dev, and
 * the library's log (log_stderr at the default LOG_ERR priority).
 */
export interface NdConfigCtx {
  readonly kernel: Kernel;
  /** err(ctx, ...): "libndctl: <fn>: <message>" on standard error; `message` carries its own newline. */
  err(fn: string, message: string): void;
}

/** ndctl_new(): a library context printing its errors on the tool's standard error. */
export function ndConfigNew(tool: ToolContext): NdConfigCtx {
  return { kernel: tool.kernel, err: (fn, message) => tool.stderr(`libndctl: ${fn}: ${message}`) };
}

/** -errno for `code`: the value libndctl returns. */
export function neg(code: Parameters<typeof errnoValue>[0]): number {
  return -errnoValue(code);
}

/** sysfs_read_attr() of nd device `dev`'s attribute `name`, or null when it is absent or unreadable. */
function readAttr(k: Kernel, dev: string, name: string): string | null {
  return sysfsReadAttr(k, `${ND_DEVICES}/${dev}/${name}`);
}

/** strtoull(buf, NULL, 0) of an attribute, or null when it cannot be read. */
function readNumber(k: Kernel, dev: string, name: string): number | null {
  const v = readAttr(k, dev, name);
  if (v === null) return null;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : null;
}

/** The `driver` link test of is_enabled(). */
function hasDriver(k: Kernel, dev: string): boolean {
  return k.sysfs.typeOf(`${ND_DEVICES}/${dev}/driver`) === 'link';
}

/**
 * __util_bind(): offers `dev` to every driver of the nd bus in turn (quietly) until one binds it, then waits for
 * the probes that caused. 0, or -ENXIO when no driver took it.
 */
export async function utilBind(k: Kernel, dev: string): Promise<number> {
  let rc = neg('ENXIO');
  for (const drv of k.sysfs.readdir(ND_DRIVERS)) {
    if (!k.sysfs.exists(`${ND_DRIVERS}/${drv}/bind`)) continue;
    rc = await sysfsWriteAttr(k, `${ND_DRIVERS}/${drv}/bind`, dev);
    if (rc === 0) break;
  }
  await waitProbe(k);
  return rc === 0 ? 0 : neg('ENXIO');
}

/** __util_unbind(): writes `dev` to its driver's unbind file; the write's errno, or -ENOENT when unbound. */
export async function utilUnbind(k: Kernel, dev: string): Promise<number> {
  const rc = await sysfsWriteAttr(k, `${ND_DEVICES}/${dev}/driver/unbind`, dev);
  await waitProbe(k);
  return rc;
}

/**
 * The enable half shared by ndctl_region_enable() and ndctl_{pfn,dax,btt}_enable(): binds `dev` unless it is
 * bound; -ENXIO, logged as `fn`, when it stays unbound.
 */
async function enableDevice(nd: NdConfigCtx, dev: string, fn: string): Promise<number> {
  const k = nd.kernel;
  if (hasDriver(k, dev)) return 0;
  await utilBind(k, dev);
  if (hasDriver(k, dev)) return 0;
  nd.err(fn, `${dev}: failed to enable\n`);
  return neg('ENXIO');
}

/**
 * The disable shared by ndctl_region_disable_invalidate() and ndctl_namespace_disable(): unbinds `dev` unless
 * it is unbound; -EBUSY, logged as `fn`, when it stays bound.
 */
async function disableDevice(nd: NdConfigCtx, dev: string, fn: string): Promise<number> {
  const k = nd.kernel;
  if (!hasDriver(k, dev)) return 0;
  await utilUnbind(k, dev);
  if (!hasDriver(k, dev)) return 0;
  nd.err(fn, `${dev}: failed to disable\n`);
  return neg('EBUSY');
}

// ---- regions -------------------------------------------------------------------------------------------

/** ndctl_region_is_enabled(): the region is bound to nd_region. */
export function ndctlRegionIsEnabled(k: Kernel, region: string): boolean {
  return hasDriver(k, region);
}

/** A device named by a region attribute (namespace_seed, pfn_seed...), or null when absent or empty. */
function seedOf(k: Kernel, region: string, attr: string): string | null {
  const v = readAttr(k, region, attr);
  return v === null || v === '' || !k.sysfs.exists(`${ND_DEVICES}/${v}`) ? null : v;
}

/** ndctl_region_get_namespace_seed(). */
export const ndctlRegionGetNamespaceSeed = (k: Kernel, region: string): string | null =>
  seedOf(k, region, 'namespace_seed');
/** ndctl_region_get_pfn_seed(). */
export const ndctlRegionGetPfnSeed = (k: Kernel, region: string): string | null =>
  seedOf(k, region, 'pfn_seed');
/** ndctl_region_get_dax_seed(). */
export const ndctlRegionGetDaxSeed = (k: Kernel, region: string): string | null =>
  seedOf(k, region, 'dax_seed');
/** ndctl_region_get_btt_seed(): null on this kernel, which has no BTT. */
export const ndctlRegionGetBttSeed = (k: Kernel, region: string): string | null =>
  seedOf(k, region, 'btt_seed');

/**
 * ndctl_region_enable(): binds the region (nd_region) unless it is bound; -ENXIO, logged, when it stays
 * unbound.
 */
export function ndctlRegionEnable(nd: NdConfigCtx, region: string): Promise<number> {
  return enableDevice(nd, region, 'ndctl_region_enable');
}

/**
 * ndctl_region_disable_invalidate(): unbinds the region (its namespaces and claim devices go with it); -EBUSY,
 * logged, when it stays bound.
 */
export function ndctlRegionDisableInvalidate(nd: NdConfigCtx, region: string): Promise<number> {
  return disableDevice(nd, region, 'ndctl_region_disable');
}

// ---- namespaces: accessors ------------------------------------------------------------------------------

/** ndctl_namespace_get_type(): the nstype. */
export function ndctlNamespaceGetType(k: Kernel, ns: string): number {
  return readNumber(k, ns, 'nstype') ?? 0;
}

/** ndctl_namespace_get_size(). */
export function ndctlNamespaceGetSize(k: Kernel, ns: string): number {
  return readNumber(k, ns, 'size') ?? 0;
}

/** ndctl_namespace_get_resource(): null (ULLONG_MAX) while unreadable (no capacity allocated). */
export function ndctlNamespaceGetResource(k: Kernel, ns: string): number | null {
  return readNumber(k, ns, 'resource');
}

/** ndctl_namespace_get_uuid(): null for the null uuid or a namespace without one (namespace_io). */
export function ndctlNamespaceGetUuid(k: Kernel, ns: string): string | null {
  const v = readAttr(k, ns, 'uuid');
  return v === null || v === '' ? null : v;
}

/** ndctl_namespace_get_alt_name(): "" when unset or absent. */
export function ndctlNamespaceGetAltName(k: Kernel, ns: string): string {
  return readAttr(k, ns, 'alt_name') ?? '';
}

/** Whether the namespace has an alt_name attribute (the library's ndns->alt_name). */
export function ndctlNamespaceHasAltName(k: Kernel, ns: string): boolean {
  return readAttr(k, ns, 'alt_name') !== null;
}

/** ndctl_namespace_get_num_sector_sizes(): 0 where the namespace has no sector_size (this kernel). */
export function ndctlNamespaceGetNumSectorSizes(k: Kernel, ns: string): number {
  const v = readAttr(k, ns, 'sector_size');
  return v === null ? 0 : v.split(/\s+/).filter((s) => s !== '').length;
}

/**
 * ndctl_namespace_get_mode(): "memory" reads as fsdax, "dax" as devdax, "safe" as sector; null (-ENXIO) for an
 * unreadable or unknown mode.
 */
export function ndctlNamespaceGetMode(k: Kernel, ns: string): NdctlNamespaceMode | null {
  return namespaceModeOf(readAttr(k, ns, 'mode'));
}

/** ndctl_namespace_get_{btt,pfn,dax}(): the claim device of that kind named by `holder`, or null. */
export function ndctlNamespaceGetClaim(k: Kernel, ns: string, kind: NdctlClaimKind): string | null {
  const h = readAttr(k, ns, 'holder');
  if (h === null || !new RegExp(`^${kind}\\d+\\.\\d+$`).test(h)) return null;
  return k.sysfs.exists(`${ND_DEVICES}/${h}`) ? h : null;
}

/** ndctl_namespace_is_enabled(): the namespace itself is bound (raw, to nd_pmem). */
export function ndctlNamespaceIsEnabled(k: Kernel, ns: string): boolean {
  return hasDriver(k, ns);
}

/** ndctl_{pfn,dax,btt}_is_enabled(). */
export function ndctlClaimIsEnabled(k: Kernel, claim: string): boolean {
  return hasDriver(k, claim);
}

/** ndctl_namespace_is_active(): an enabled claim device holds it, or, unclaimed, it is enabled itself. */
export function ndctlNamespaceIsActive(k: Kernel, ns: string): boolean {
  const claims = (['btt', 'pfn', 'dax'] as const).map((c) => ndctlNamespaceGetClaim(k, ns, c));
  if (claims.some((c) => c !== null && ndctlClaimIsEnabled(k, c))) return true;
  return claims.every((c) => c === null) && ndctlNamespaceIsEnabled(k, ns);
}

/** ndctl_namespace_is_configured(): pmem with a uuid and at least 4K; namespace_io always. */
export function ndctlNamespaceIsConfigured(k: Kernel, ns: string): boolean {
  switch (ndctlNamespaceGetType(k, ns)) {
    case ND_DEVICE_NAMESPACE_PMEM:
      return ndctlNamespaceGetSize(k, ns) >= ND_MIN_NAMESPACE_SIZE && ndctlNamespaceGetUuid(k, ns) !== null;
    case ND_DEVICE_NAMESPACE_IO:
      return true;
    default:
      return false;
  }
}

/**
 * ndctl_namespace_is_configuration_idle(): not active and not configured — except that a namespace_io,
 * always configured, is idle whenever it is inactive.
 */
export function ndctlNamespaceIsConfigurationIdle(k: Kernel, ns: string): boolean {
  if (ndctlNamespaceIsActive(k, ns)) return false;
  if (ndctlNamespaceIsConfigured(k, ns)) return ndctlNamespaceGetType(k, ns) === ND_DEVICE_NAMESPACE_IO;
  return true;
}

/** ndctl_{namespace,pfn}_get_block_device(): the disk below the device ("pmem0"), or "" when none. */
export function ndctlGetBlockDevice(k: Kernel, dev: string): string {
  return classChildren(k, 'block', dev)[0] ?? '';
}

// ---- namespaces: setters ---------------------------------------------------------------------------------

/** ndctl_namespace_set_uuid(). */
export function ndctlNamespaceSetUuid(nd: NdConfigCtx, ns: string, uuid: string): Promise<number> {
  return sysfsWriteAttr(nd.kernel, `${ND_DEVICES}/${ns}/uuid`, uuid);
}

/** ndctl_namespace_set_alt_name(): 0 without writing for a namespace that has no name (namespace_io). */
export async function ndctlNamespaceSetAltName(nd: NdConfigCtx, ns: string, name: string): Promise<number> {
  if (!ndctlNamespaceHasAltName(nd.kernel, ns)) return 0;
  if (Buffer.byteLength(name) >= NSLABEL_NAME_LEN) return neg('EINVAL');
  return sysfsWriteAttr(nd.kernel, `${ND_DEVICES}/${ns}/alt_name`, name);
}

/** namespace_set_size(): writes "%#llx\n" to `size` (0 frees the capacity and, in the kernel, the uuid). */
function namespaceSetSize(nd: NdConfigCtx, ns: string, size: number): Promise<number> {
  const text = size === 0 ? '0' : `0x${size.toString(16)}`;
  return sysfsWriteAttr(nd.kernel, `${ND_DEVICES}/${ns}/size`, `${text}\n`);
}

/** ndctl_namespace_set_size(): -EINVAL for 0 (use delete), -EBUSY while enabled, -ENXIO for namespace_io. */
export async function ndctlNamespaceSetSize(nd: NdConfigCtx, ns: string, size: number): Promise<number> {
  const k = nd.kernel;
  if (size === 0) return neg('EINVAL');
  if (ndctlNamespaceIsEnabled(k, ns)) return neg('EBUSY');
  const t = ndctlNamespaceGetType(k, ns);
  if (t !== ND_DEVICE_NAMESPACE_PMEM && t !== ND_DEVICE_NAMESPACE_BLK) return neg('ENXIO');
  return namespaceSetSize(nd, ns, size);
}

/**
 * ndctl_namespace_set_enforce_mode(): writes `holder_class`. Kernels before 4.13 (this one) have no such
 * attribute and the write fails; callers ignore the result, as ndctl does.
 */
export function ndctlNamespaceSetEnforceMode(
  nd: NdConfigCtx,
  ns: string,
  mode: NdctlNamespaceMode,
): Promise<number> {
  const name = { fsdax: 'pfn', devdax: 'dax', sector: 'btt', raw: '' }[mode];
  return sysfsWriteAttr(nd.kernel, `${ND_DEVICES}/${ns}/holder_class`, name);
}

/** ndctl_namespace_set_raw_mode(): force_raw; returns the new setting or a negative errno. */
export async function ndctlNamespaceSetRawMode(nd: NdConfigCtx, ns: string, raw: boolean): Promise<number> {
  const rc = await sysfsWriteAttr(nd.kernel, `${ND_DEVICES}/${ns}/force_raw`, raw ? '1\n' : '0\n');
  return rc < 0 ? rc : raw ? 1 : 0;
}

/**
 * ndctl_namespace_enable(): 0 when the namespace ends up bound; 1 when the bind instead brought up a claim
 * device found on it (its info block); else the bind's error (or -ENXIO), logged.
 */
export async function ndctlNamespaceEnable(nd: NdConfigCtx, ns: string): Promise<number> {
  const k = nd.kernel;
  if (ndctlNamespaceIsEnabled(k, ns)) return 0;
  const rc = await utilBind(k, ns);
  if (ndctlNamespaceIsEnabled(k, ns)) return 0;
  for (const kind of ['btt', 'pfn', 'dax'] as const) {
    const c = ndctlNamespaceGetClaim(k, ns, kind);
    if (c !== null && ndctlClaimIsEnabled(k, c)) return 1;
  }
  nd.err('ndctl_namespace_enable', `${ns}: failed to enable\n`);
  return rc !== 0 ? rc : neg('ENXIO');
}

/** ndctl_namespace_disable(): unbinds the namespace itself; -EBUSY, logged, when it stays bound. */
export function ndctlNamespaceDisable(nd: NdConfigCtx, ns: string): Promise<number> {
  return disableDevice(nd, ns, 'ndctl_namespace_disable');
}

/**
 * ndctl_{pfn,dax,btt}_delete(): unbinds the claim device and clears its namespace link (the kernel then resets
 * it, or removes it when it is not its region's seed).
 */
export async function ndctlClaimDelete(nd: NdConfigCtx, claim: string): Promise<number> {
  const k = nd.kernel;
  if (ndctlClaimIsEnabled(k, claim)) await utilUnbind(k, claim);
  const rc = await ndctlClaimSetNamespace(nd, claim, null);
  await waitProbe(k);
  return rc;
}

/** ndctl_namespace_disable_invalidate(): deletes the namespace's claim device, then disables it. */
export async function ndctlNamespaceDisableInvalidate(nd: NdConfigCtx, ns: string): Promise<number> {
  let rc = 0;
  for (const kind of ['btt', 'pfn', 'dax'] as const) {
    const c = ndctlNamespaceGetClaim(nd.kernel, ns, kind);
    if (c !== null) rc = await ndctlClaimDelete(nd, c);
  }
  if (rc !== 0) return rc;
  return ndctlNamespaceDisable(nd, ns);
}

/**
 * ndctl_namespace_disable_safe(): when the namespace (or its fsdax claim) serves a block device, opens that
 * device first — a failure to open is returned as its errno and nothing is disabled — then disable_invalidate.
 * This kernel has no O_EXCL, so the open only fails when the device cannot be opened at all.
 */
export async function ndctlNamespaceDisableSafe(nd: NdConfigCtx, ns: string): Promise<number> {
  const k = nd.kernel;
  const pfn = ndctlNamespaceGetClaim(k, ns, 'pfn');
  const btt = ndctlNamespaceGetClaim(k, ns, 'btt');
  const dax = ndctlNamespaceGetClaim(k, ns, 'dax');
  let bdev = '';
  if (pfn !== null && ndctlClaimIsEnabled(k, pfn)) bdev = ndctlGetBlockDevice(k, pfn);
  else if (btt !== null && ndctlClaimIsEnabled(k, btt)) bdev = ndctlGetBlockDevice(k, btt);
  else if (dax !== null && ndctlClaimIsEnabled(k, dax)) bdev = '';
  else if (ndctlNamespaceIsEnabled(k, ns)) bdev = ndctlGetBlockDevice(k, ns);
  if (bdev !== '') {
    const t = k.spawn('ndctl');
    try {
      const fd = t.open(`/dev/${bdev}`, O_RDWR);
      await ndctlNamespaceDisableInvalidate(nd, ns);
      t.close(fd);
    } catch (e) {
      if (isErrno(e)) return e.errno;
      throw e;
    } finally {
      t.exit();
      k.reapTask(t);
    }
    return 0;
  }
  await ndctlNamespaceDisableInvalidate(nd, ns);
  return 0;
}

/**
 * ndctl_namespace_delete(): frees a pmem namespace's capacity (size 0); -EBUSY while enabled; nothing to do for
 * a namespace_io. An -ENXIO from the write (already deleted) counts as success.
 */
export async function ndctlNamespaceDelete(nd: NdConfigCtx, ns: string): Promise<number> {
  const k = nd.kernel;
  if (!k.sysfs.exists(`${ND_DEVICES}/${ns}`)) return 0;
  if (ndctlNamespaceIsEnabled(k, ns)) return neg('EBUSY');
  const t = ndctlNamespaceGetType(k, ns);
  if (t !== ND_DEVICE_NAMESPACE_PMEM && t !== ND_DEVICE_NAMESPACE_BLK) return 0;
  const rc = await namespaceSetSize(nd, ns, 0);
  await waitProbe(k);
  return rc !== 0 && rc !== neg('ENXIO') ? rc : 0;
}

// ---- pfn / dax claim devices --------------------------------------------------------------------------------

/** ndctl_pfn_get_align() / ndctl_dax_get_align(). */
export function ndctlClaimGetAlign(k: Kernel, claim: string): number {
  return readNumber(k, claim, 'align') ?? 0;
}

/** ndctl_pfn_has_align(): whether the device has an `align` attribute. */
export function ndctlClaimHasAlign(k: Kernel, claim: string): boolean {
  return k.sysfs.exists(`${ND_DEVICES}/${claim}/align`);
}

/**
 * The alignments ndctl_{pfn,dax}_get_supported_alignment() walks: `supported_alignments`, or 4K and 2M when the
 * kernel does not say (x86, where those always worked).
 */
export function ndctlClaimGetSupportedAlignments(k: Kernel, claim: string): number[] {
  const v = readAttr(k, claim, 'supported_alignments') ?? `${SZ_4K} ${SZ_2M}`;
  return v
    .split(/\s+/)
    .filter((s) => s !== '')
    .map(Number);
}

/** ndctl_{pfn,dax}_set_uuid(). */
export function ndctlClaimSetUuid(nd: NdConfigCtx, claim: string, uuid: string): Promise<number> {
  return sysfsWriteAttr(nd.kernel, `${ND_DEVICES}/${claim}/uuid`, uuid);
}

/** ndctl_{pfn,dax}_set_location(): `mode` none/ram/pmem. */
export function ndctlClaimSetLocation(nd: NdConfigCtx, claim: string, loc: NdctlPfnLoc): Promise<number> {
  return sysfsWriteAttr(nd.kernel, `${ND_DEVICES}/${claim}/mode`, loc);
}

/** ndctl_{pfn,dax}_set_align(). */
export function ndctlClaimSetAlign(nd: NdConfigCtx, claim: string, align: number): Promise<number> {
  return sysfsWriteAttr(nd.kernel, `${ND_DEVICES}/${claim}/align`, `${align}\n`);
}

/** ndctl_{pfn,dax}_set_namespace(): links the claim device to `ns`, or with null releases its namespace. */
export function ndctlClaimSetNamespace(nd: NdConfigCtx, claim: string, ns: string | null): Promise<number> {
  return sysfsWriteAttr(nd.kernel, `${ND_DEVICES}/${claim}/namespace`, ns ?? '\n');
}

/** ndctl_{pfn,dax}_enable(): binds the claim device; -ENXIO, logged, when it stays unbound. */
export function ndctlClaimEnable(nd: NdConfigCtx, claim: string): Promise<number> {
  const kind = claim.startsWith('dax') ? 'dax' : claim.startsWith('btt') ? 'btt' : 'pfn';
  return enableDevice(nd, claim, `ndctl_${kind}_enable`);
}

// ---- dimms (enable_labels) -------------------------------------------------------------------------------

/** ndctl_dimm_is_cmd_supported() for the label commands: `commands` lists get_size, get_data and set_data. */
export function ndctlDimmSupportsLabels(k: Kernel, dimm: string): boolean {
  const cmds = (readAttr(k, dimm, 'commands') ?? '').split(/\s+/);
  return ['get_size', 'get_data', 'set_data'].every((c) => cmds.includes(c));
}
