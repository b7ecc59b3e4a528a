/**
 * Test setup for the ndctl, daxctl and daxio tests, in two kinds:
 * - namespaces configured the way libndctl does it (sysfs writes, bind/unbind; after
 *   packages/test-nvdimm/test/libndctl.ts), for tests that must not depend on the create-namespace command:
 *   the list and inject-error tests check the JSON of what is set up here;
 * - createDevdax(), `ndctl create-namespace -m devdax` through the fixture, for tests that only need a
 *   device-dax to exist (daxctl, daxio);
 * plus media errors found by a scrub, through nfit_test's firmware.
 */
import { randomUUID } from 'node:crypto';
import type { Kernel } from '@daxsim/kernel';
import type { NfitTestStack } from '@daxsim/test-nvdimm';
import { classChildren, ndAttr, ndBind, ndDriverOf, ndUnbind, ndWrite, waitProbe } from '../src/lib/sysfs.js';
import { cmdCreateNamespace } from '../src/ndctl/namespace.js';
import type { ToolFixture } from './tool_fixture.js';

export type NdMode = 'raw' | 'fsdax' | 'devdax';

export interface CreateOptions {
  mode: NdMode;
  size?: number;
  align?: number;
  map?: 'dev' | 'mem';
  uuid?: string;
  /** The pfn/dax claim device's uuid (what ndctl list shows as a fsdax or devdax namespace's uuid). */
  claimUuid?: string;
  name?: string;
}

/** An nd device's attribute, without its trailing newline. */
export const read = ndAttr;
/** The driver bound to an nd device, or null. */
export const driverOf = ndDriverOf;
/** Whether a driver is bound to an nd device. */
export const bound = (k: Kernel, dev: string): boolean => ndDriverOf(k, dev) !== null;
/** ndctl_bind(): writes the device name to the driver's bind file; waits for the probes it causes. */
export const bind = ndBind;
/** ndctl_unbind(). */
export const unbind = ndUnbind;

/** The pfn/dax device holding `ns`, or null. */
export const holder = (k: Kernel, ns: string): string | null => read(k, ns, 'holder') || null;

/** ndctl_namespace_disable_safe(): the claim device first, then the namespace. */
export async function disableNamespace(k: Kernel, ns: string): Promise<void> {
  const claim = holder(k, ns);
  if (claim !== null) await unbind(k, claim);
  await unbind(k, ns);
}

/** The disk a namespace or pfn device serves while bound to nd_pmem. */
export function blockDevice(k: Kernel, dev: string): string {
  const [disk] = classChildren(k, 'block', dev);
  if (disk === undefined) throw new Error(`${dev} has no block device`);
  return disk;
}

/**
 * ndctl create-namespace on `region`, through sysfs: the idle namespace seed gets a uuid, name and size; then
 * raw binds it, fsdax configures and binds the pfn seed, devdax the dax seed. Returns the namespace's name.
 */
export async function createNamespace(k: Kernel, region: string, o: CreateOptions): Promise<string> {
  const ns = read(k, region, 'namespace_seed');
  if (Number(read(k, ns, 'nstype')) === 5) {
    await ndWrite(k, ns, 'uuid', o.uuid ?? randomUUID());
    if (o.name !== undefined) await ndWrite(k, ns, 'alt_name', o.name);
    await ndWrite(k, ns, 'size', String(o.size ?? Number(read(k, region, 'available_size'))));
  }
  if (o.mode === 'raw') {
    await bind(k, 'nd_pmem', ns);
    return ns;
  }
  const claim = read(k, region, o.mode === 'fsdax' ? 'pfn_seed' : 'dax_seed');
  await ndWrite(k, claim, 'uuid', o.claimUuid ?? randomUUID());
  await ndWrite(k, claim, 'mode', o.map === 'mem' ? 'ram' : 'pmem');
  if (o.align !== undefined) await ndWrite(k, claim, 'align', String(o.align));
  await ndWrite(k, claim, 'namespace', ns);
  await bind(k, o.mode === 'fsdax' ? 'nd_pmem' : 'dax_pmem', claim);
  if (driverOf(k, claim) === null) throw new Error(`${claim} failed to enable`);
  return ns;
}

export interface DevdaxNamespace {
  region: string;
  namespace: string;
  /** The nd dax claim device (daxR.M on the nd bus). */
  claim: string;
  /** The device-dax character device name, daxR.N. */
  chardev: string;
}

/** `ndctl create-namespace -r <region> -m devdax <argv>` (-s, -a...) through the fixture. */
export async function createDevdax(
  f: ToolFixture,
  region: string,
  ...argv: string[]
): Promise<DevdaxNamespace> {
  const ns = (await f.json(cmdCreateNamespace, '-r', region, '-m', 'devdax', ...argv)) as {
    dev: string;
    chardev: string;
  };
  return { region, namespace: ns.dev, claim: read(f.kernel, ns.dev, 'holder'), chardev: ns.chardev };
}

/**
 * A media error of `len` bytes at `phys` under nfit_test instance `provider`, found by an address range scrub so
 * that it shows in the region's badblocks (and a load from it is a machine check).
 */
export async function injectMediaError(
  k: Kernel,
  stack: NfitTestStack,
  provider: string,
  region: string,
  phys: number,
  len: number,
): Promise<void> {
  stack.nfitTest.instance(provider).firmware.injectError(phys, len);
  const busDir = k.sysfs.realpath(`/sys/bus/nd/devices/${region}/..`);
  await k.sysfs.write(`${busDir}/nfit/scrub`, '1\n');
  await waitProbe(k);
}
