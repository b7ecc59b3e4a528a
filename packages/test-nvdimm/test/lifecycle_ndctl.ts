/**
 * The ndctl flows the lifecycle property drives, composed from libndctl.ts's sysfs primitives the way ndctl's
 * namespace.c composes libndctl calls (region_get_namespace, namespace_create with its cleanup,
 * namespace_destroy, namespace_reconfig), plus the one kernel-side step a test needs: reaching the dax inode
 * behind a /dev/daxR.N node, to kill it as unregister_dax_dev() does.
 */
import { DaxCdev, type DaxInode } from '@daxsim/dax-core';
import { type Kernel, mkdev } from '@daxsim/kernel';
import {
  bind,
  blockDevice,
  type CreateOptions,
  createNamespace,
  destroyNamespace,
  disableNamespace,
  driverOf,
  holder,
  read,
  regionGetNamespace,
  unbind,
  waitProbe,
  write,
  writeBlock,
} from './libndctl.js';

const ND = '/sys/bus/nd/devices';
/** The info block sits 4K into a namespace (SZ_4K in nd_pfn_validate / ndctl's zero_info_block). */
const INFO_BLOCK_OFFSET = 4096;

/** The nd devices below `region` whose names match `re`, in name order. */
export function regionChildren(k: Kernel, region: string, re: RegExp): string[] {
  return k.sysfs
    .readdir(`${ND}/${region}`)
    .filter((d) => re.test(d))
    .sort();
}

/** The claim device of `region` whose `namespace` attribute names `ns`, or null. */
function claimOf(k: Kernel, region: string, ns: string): string | null {
  return regionChildren(k, region, /^(pfn|dax)\d+\.\d+$/).find((c) => read(k, c, 'namespace') === ns) ?? null;
}

/**
 * ndctl create-namespace: setup_namespace() on region_get_namespace(). When a step fails, the claim device that
 * was being set up lets go (ndctl_{pfn,dax}_set_namespace(NULL), which also clears a seed's uuid and mode), the
 * namespace is deleted (namespace_create()'s ndctl_namespace_delete()), and the error is rethrown. Returns the
 * namespace's name.
 */
export async function ndctlCreate(k: Kernel, region: string, o: CreateOptions): Promise<string> {
  const ns = regionGetNamespace(k, region);
  try {
    return await createNamespace(k, region, o, ns);
  } catch (e) {
    if (o.mode !== 'raw') {
      const seed = read(k, region, o.mode === 'fsdax' ? 'pfn_seed' : 'dax_seed');
      const claim = claimOf(k, region, ns) ?? seed;
      if (driverOf(k, claim) === null) await write(k, claim, 'namespace', '');
    }
    if (read(k, ns, 'uuid') !== '') await write(k, ns, 'size', '0');
    await waitProbe(k);
    throw e;
  }
}

/**
 * ndctl disable-namespace: the claim device, then the namespace (ndctl_namespace_disable_safe); with `release`
 * the claim device also lets the namespace go (ndctl_namespace_disable_invalidate's ndctl_{pfn,dax}_delete), so
 * the next enable rediscovers the personality from the info block.
 */
export async function ndctlDisable(k: Kernel, ns: string, release: boolean): Promise<void> {
  const claim = holder(k, ns);
  await disableNamespace(k, ns);
  if (release && claim !== null) await write(k, claim, 'namespace', '');
  await waitProbe(k);
}

/** ndctl's zero_info_block(): force_raw, a raw nd_pmem binding, 4K of zeros over the info block, unbind. */
async function zeroInfoBlock(k: Kernel, ns: string): Promise<void> {
  await write(k, ns, 'force_raw', '1');
  await bind(k, 'nd_pmem', ns);
  writeBlock(k, blockDevice(k, ns), INFO_BLOCK_OFFSET, new Uint8Array(4096));
  await unbind(k, ns);
  await write(k, ns, 'force_raw', '0');
}

/**
 * ndctl destroy-namespace -f: disable, zero the info block, delete the labels; waits for the namespace device to
 * go when the kernel retires it. libndctl.ts's destroyNamespace() zeroes only under a live claim; a namespace
 * whose claim was released (disable-namespace) still carries the info block on its media, so it is zeroed here
 * too, as later ndctl does for every namespace with capacity.
 */
export async function ndctlDestroy(k: Kernel, ns: string): Promise<void> {
  await disableNamespace(k, ns);
  if (holder(k, ns) === null && Number(read(k, ns, 'size')) > 0) await zeroInfoBlock(k, ns);
  await destroyNamespace(k, ns);
  await waitProbe(k);
}

/**
 * ndctl create-namespace -f -e <ns> (namespace_reconfig()): destroy, then set up region_get_namespace() with
 * the old size, uuid and name and the new mode. Unlike libndctl.ts's reconfigureNamespace(), it picks the
 * namespace after the destroy has settled (a retired namespaceR.N, N > 0, is unregistered asynchronously).
 */
export async function ndctlReconfigure(
  k: Kernel,
  region: string,
  ns: string,
  o: CreateOptions,
): Promise<string> {
  const size = Number(read(k, ns, 'size'));
  const uuid = read(k, ns, 'uuid');
  const name = read(k, ns, 'alt_name');
  await ndctlDestroy(k, ns);
  return ndctlCreate(k, region, { size, uuid, name, ...o });
}

/** kobj_lookup() of the dev_t /sys/class/dax/<chardev>/dev names, then the dax inode embedding that cdev. */
export function daxInodeOfChardev(k: Kernel, chardev: string): DaxInode {
  const [maj, min] = k.sysfs.read(`/sys/class/dax/${chardev}/dev`).trim().split(':').map(Number);
  const cdev = k.chrdev.lookup(mkdev(maj!, min!));
  if (!(cdev instanceof DaxCdev)) throw new Error(`${chardev}: no dax cdev at ${maj}:${min}`);
  return cdev.dax;
}
