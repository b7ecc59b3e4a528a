/**
 * The sysfs primitives libndctl and libdaxctl are built on (sysfs_read_attr, sysfs_write_attr, the driver
 * bind/unbind files, ndctl_bus_wait_probe): every tool reaches the kernel through these, /dev nodes and tasks.
 */
import { isErrno, type Kernel } from '@daxsim/kernel';

export const ND_DEVICES = '/sys/bus/nd/devices';
export const ND_DRIVERS = '/sys/bus/nd/drivers';

/** sysfs_read_attr() of `/sys/bus/nd/devices/<dev>/<name>`, without the trailing newline. */
export function ndAttr(k: Kernel, dev: string, name: string): string {
  return k.sysfs.read(`${ND_DEVICES}/${dev}/${name}`).trim();
}

/** ndAttr(), or null when the attribute is absent or its read fails (ENXIO for an unbound device's size...). */
export function ndAttrOrNull(k: Kernel, dev: string, name: string): string | null {
  try {
    return ndAttr(k, dev, name);
  } catch {
    return null;
  }
}

/** sysfs_write_attr(): 0, or the store's negative errno. */
export async function sysfsWriteAttr(k: Kernel, path: string, value: string): Promise<number> {
  try {
    await k.sysfs.write(path, value);
    return 0;
  } catch (e) {
    if (isErrno(e)) return e.errno;
    throw e;
  }
}

/** sysfs_write_attr() of `/sys/bus/nd/devices/<dev>/<name>`; throws the store's errno. */
export async function ndWrite(k: Kernel, dev: string, name: string, value: string): Promise<void> {
  await k.sysfs.write(`${ND_DEVICES}/${dev}/${name}`, `${value}\n`);
}

/**
 * ndctl_bus_wait_probe(): waits for the probes the last store scheduled. The real one reads ndbusN/wait_probe,
 * whose show blocks in nd_synchronize(); sysfs reads here cannot block, so this waits on the kernel's async
 * queue, which is what that show waits for.
 */
export function waitProbe(k: Kernel): Promise<void> {
  return k.async.synchronizeFull();
}

/** The name of the driver bound to nd device `dev`, or null. */
export function ndDriverOf(k: Kernel, dev: string): string | null {
  const link = `${ND_DEVICES}/${dev}/driver`;
  return k.sysfs.exists(link) ? k.sysfs.readlink(link).split('/').pop()! : null;
}

/** ndctl_bind(): writes `dev` to the driver's bind file and waits for the probe; the store's errno on failure. */
export async function ndBind(k: Kernel, driver: string, dev: string): Promise<void> {
  try {
    await k.sysfs.write(`${ND_DRIVERS}/${driver}/bind`, `${dev}\n`);
  } finally {
    await waitProbe(k);
  }
}

/** ndctl_unbind(): writes `dev` to its driver's unbind file, if it has one, and waits. */
export async function ndUnbind(k: Kernel, dev: string): Promise<void> {
  const drv = ndDriverOf(k, dev);
  if (drv !== null) await k.sysfs.write(`${ND_DRIVERS}/${drv}/unbind`, `${dev}\n`);
  await waitProbe(k);
}

/** The devices of /sys/bus/nd/devices whose names match `re`, in (prefix, number...) order. */
export function ndDevices(k: Kernel, re: RegExp): string[] {
  return k.sysfs
    .readdir(ND_DEVICES)
    .filter((d) => re.test(d))
    .sort(compareDevNames);
}

/** Orders "region2" before "region10" and "namespace1.2" before "namespace1.10". */
export function compareDevNames(a: string, b: string): number {
  const na = a.match(/\d+/g)?.map(Number) ?? [];
  const nb = b.match(/\d+/g)?.map(Number) ?? [];
  const pa = a.replace(/[\d.]+$/, '');
  const pb = b.replace(/[\d.]+$/, '');
  if (pa !== pb) return pa < pb ? -1 : 1;
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? -1) - (nb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** The class devices of /sys/class/<cls> whose sysfs path lies below nd device `dev`. */
export function classChildren(k: Kernel, cls: string, dev: string): string[] {
  const dir = `/sys/class/${cls}`;
  if (!k.sysfs.exists(dir)) return [];
  const at = k.sysfs.realpath(`${ND_DEVICES}/${dev}`);
  return k.sysfs
    .readdir(dir)
    .filter((d) => k.sysfs.realpath(`${dir}/${d}`).startsWith(`${at}/`))
    .sort(compareDevNames);
}
