/**
 * The little of libndctl the sparse measurement needs, done as ndctl does it: sysfs reads and writes and the
 * driver bind file, then a wait for the probes they started (ndctl_bus_wait_probe).
 */
import { randomUUID } from 'node:crypto';
import type { Kernel } from '@daxsim/kernel';

const ND = '/sys/bus/nd/devices';

const attr = (k: Kernel, dev: string, name: string): string => k.sysfs.read(`${ND}/${dev}/${name}`).trim();

async function write(k: Kernel, dev: string, name: string, value: string): Promise<void> {
  await k.sysfs.write(`${ND}/${dev}/${name}`, `${value}\n`);
}

/** The region devices of the nd bus whose provider is `provider`, in id order. */
export function regions(k: Kernel, provider: string): string[] {
  const bus = k.sysfs
    .readdir(ND)
    .filter((d) => d.startsWith('ndbus'))
    .find((b) => attr(k, b, 'provider') === provider);
  if (bus === undefined) throw new Error(`no nd bus with provider ${provider}`);
  return k.sysfs
    .readdir(`${ND}/${bus}`)
    .filter((d) => /^region\d+$/.test(d))
    .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
}

/**
 * ndctl create-namespace -m devdax -a `align` on a labelled pmem region: the namespace seed takes a uuid and
 * the region's whole available size, then the dax seed is configured (map=dev) and bound to dax_pmem.
 * Returns the namespace's name.
 */
export async function createDevdaxNamespace(k: Kernel, region: string, align: number): Promise<string> {
  const ns = attr(k, region, 'namespace_seed');
  await write(k, ns, 'uuid', randomUUID());
  await write(k, ns, 'size', attr(k, region, 'available_size'));
  const dax = attr(k, region, 'dax_seed');
  await write(k, dax, 'uuid', randomUUID());
  await write(k, dax, 'mode', 'pmem');
  await write(k, dax, 'align', String(align));
  await write(k, dax, 'namespace', ns);
  await k.sysfs.write('/sys/bus/nd/drivers/dax_pmem/bind', `${dax}\n`);
  await k.async.synchronizeFull();
  if (!k.sysfs.exists(`${ND}/${dax}/driver`)) throw new Error(`${dax} failed to enable`);
  return ns;
}
