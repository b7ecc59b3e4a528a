/**
 * What ndctl's library does to configure namespaces, done the same way: sysfs reads and writes, driver bind
 * and unbind files, and /dev nodes opened by a task. The acceptance tests drive the stack only through this.
 */
import { randomUUID } from 'node:crypto';
import { type Kernel, O_RDWR } from '@daxsim/kernel';

const ND = '/sys/bus/nd/devices';

export type NdMode = 'raw' | 'fsdax' | 'devdax';

export interface CreateOptions {
  mode: NdMode;
  size?: number;
  align?: number;
  map?: 'dev' | 'mem';
  uuid?: string;
  name?: string;
}

const attr = (k: Kernel, dev: string, name: string): string => k.sysfs.read(`${ND}/${dev}/${name}`).trim();

/** The region devices of the bus whose provider is `provider`, in id order. */
export function regions(k: Kernel, provider: string): string[] {
  const bus = k.sysfs
    .readdir(ND)
    .filter((d) => d.startsWith('ndbus'))
    .find((b) => attr(k, b, 'provider') === provider);
  if (bus === undefined) throw new Error(`no bus ${provider}`);
  return k.sysfs
    .readdir(`${ND}/${bus}`)
    .filter((d) => /^region\d+$/.test(d))
    .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
}

export const read = attr;

export async function write(k: Kernel, dev: string, name: string, value: string): Promise<void> {
  await k.sysfs.write(`${ND}/${dev}/${name}`, `${value}\n`);
}

/** ndctl_bus_wait_probe(). */
export const waitProbe = (k: Kernel): Promise<void> => k.async.synchronizeFull();

/** The driver bound to an nd device, or null. */
export function driverOf(k: Kernel, dev: string): string | null {
  const link = `${ND}/${dev}/driver`;
  return k.sysfs.exists(link) ? k.sysfs.readlink(link).split('/').pop()! : null;
}

/** ndctl_bind(): writes the device name to the driver's bind file; waits for the probes it causes. */
export async function bind(k: Kernel, driver: string, dev: string): Promise<void> {
  await k.sysfs.write(`/sys/bus/nd/drivers/${driver}/bind`, `${dev}\n`);
  await waitProbe(k);
}

/** ndctl_unbind(). */
export async function unbind(k: Kernel, dev: string): Promise<void> {
  const drv = driverOf(k, dev);
  if (drv !== null) await k.sysfs.write(`/sys/bus/nd/drivers/${drv}/unbind`, `${dev}\n`);
  await waitProbe(k);
}

/** The pfn/dax device holding `ns`, or null. */
export const holder = (k: Kernel, ns: string): string | null => attr(k, ns, 'holder') || null;

/** ndctl_namespace_disable_safe(): the claim device first, then the namespace. */
export async function disableNamespace(k: Kernel, ns: string): Promise<void> {
  const claim = holder(k, ns);
  if (claim !== null) await unbind(k, claim);
  await unbind(k, ns);
}

/** The class devices (of /sys/class/<cls>) whose parent chain holds nd device `dev`. */
function classChildren(k: Kernel, cls: string, dev: string): string[] {
  const dir = `/sys/class/${cls}`;
  if (!k.sysfs.exists(dir)) return [];
  const at = k.sysfs.realpath(`${ND}/${dev}`);
  return k.sysfs.readdir(dir).filter((d) => k.sysfs.realpath(`${dir}/${d}`).startsWith(`${at}/`));
}

/** The disk a namespace or pfn device serves while bound to nd_pmem. */
export function blockDevice(k: Kernel, dev: string): string {
  const [disk] = classChildren(k, 'block', dev);
  if (disk === undefined) throw new Error(`${dev} has no block device`);
  return disk;
}

/** The device-dax instances below a dax claim device (daxctl's region devices). */
export const daxChardevs = (k: Kernel, dev: string): string[] => classChildren(k, 'dax', dev);

/** Writes `data` at `offset` of /dev/<disk> from a task, as dd would. */
export function writeBlock(k: Kernel, disk: string, offset: number, data: Uint8Array): void {
  const t = k.spawn('dd');
  const fd = t.open(`/dev/${disk}`, O_RDWR);
  try {
    t.pwrite(fd, data, offset);
  } finally {
    t.close(fd);
    t.exit();
    k.reapTask(t);
  }
}

/**
 * ndctl destroy-namespace (namespace_destroy()): disable, zero a claim's info block through a raw binding
 * (force_raw), release the claim, and delete the labels (size 0).
 */
export async function destroyNamespace(k: Kernel, ns: string): Promise<void> {
  const claim = holder(k, ns);
  await disableNamespace(k, ns);
  if (claim !== null) {
    await write(k, ns, 'force_raw', '1');
    await write(k, claim, 'namespace', '');
    await bind(k, 'nd_pmem', ns);
    writeBlock(k, blockDevice(k, ns), 4096, new Uint8Array(4096));
    await unbind(k, ns);
    await write(k, ns, 'force_raw', '0');
  }
  if (Number(attr(k, ns, 'nstype')) === 5) await write(k, ns, 'size', '0');
}

/**
 * ndctl create-namespace on `region`: the idle namespace seed gets a uuid, name and size; then raw binds it,
 * fsdax configures and binds the pfn seed, devdax the dax seed. Returns the namespace's name.
 */
export async function createNamespace(
  k: Kernel,
  region: string,
  o: CreateOptions,
  seed?: string,
): Promise<string> {
  const ns = seed ?? attr(k, region, 'namespace_seed');
  if (Number(attr(k, ns, 'nstype')) === 5) {
    await write(k, ns, 'uuid', o.uuid ?? randomUUID());
    if (o.name !== undefined) await write(k, ns, 'alt_name', o.name);
    await write(k, ns, 'size', String(o.size ?? Number(attr(k, region, 'available_size'))));
  }
  if (o.mode === 'raw') {
    await bind(k, 'nd_pmem', ns);
    return ns;
  }
  const claim = attr(k, region, o.mode === 'fsdax' ? 'pfn_seed' : 'dax_seed');
  await write(k, claim, 'uuid', randomUUID());
  await write(k, claim, 'mode', o.map === 'mem' ? 'ram' : 'pmem');
  if (o.align !== undefined) await write(k, claim, 'align', String(o.align));
  await write(k, claim, 'namespace', ns);
  await bind(k, o.mode === 'fsdax' ? 'nd_pmem' : 'dax_pmem', claim);
  if (driverOf(k, claim) === null) throw new Error(`${claim} failed to enable`);
  return ns;
}

/** ndctl create-namespace -f -e <ns> (namespace_reconfig()): same uuid, size and name, a new mode. */
export async function reconfigureNamespace(
  k: Kernel,
  region: string,
  ns: string,
  o: CreateOptions,
): Promise<string> {
  const size = Number(attr(k, ns, 'size'));
  const uuid = attr(k, ns, 'uuid');
  const name = attr(k, ns, 'alt_name');
  await destroyNamespace(k, ns);
  await waitProbe(k);
  return createNamespace(k, region, { size, uuid, name, ...o }, regionGetNamespace(k, region));
}

/**
 * ndctl's region_get_namespace(): the region's namespace 0 while it is idle (no size, no driver), else the
 * namespace seed. A namespace emptied by destroy is deleted asynchronously unless it is namespace 0 or the seed.
 */
export function regionGetNamespace(k: Kernel, region: string): string {
  const ns0 = `namespace${region.slice('region'.length)}.0`;
  const idle =
    k.sysfs.exists(`${ND}/${ns0}`) &&
    Number(attr(k, ns0, 'size')) === 0 &&
    driverOf(k, ns0) === null &&
    holder(k, ns0) === null;
  return idle ? ns0 : attr(k, region, 'namespace_seed');
}
