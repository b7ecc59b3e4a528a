/**
 * PMDK's badblocks_clear_all() for a device-dax (src/common/bad_blocks.c over libpmem2's badblocks_ndctl.c),
 * which daxio runs on its output device unless given `-b no`: the region's badblocks that fall inside the data
 * range of the nd dax claim device behind the device (its `resource` and `size`, relative to the region's
 * `resource`) are cleared one by one through the bus: ND_CMD_ARS_CAP for the range, then ND_CMD_CLEAR_ERROR,
 * ioctls on /dev/ndctlN.
 */
import type { Task } from '@daxsim/kernel';
import { O_RDWR } from '@daxsim/kernel';
import { ND_IOCTL_ARS_CAP, ND_IOCTL_CLEAR_ERROR, ndCmdArsCap, ndCmdClearError } from '@daxsim/nvdimm-sim';
import type { ToolContext } from '../context.js';
import { daxctlRegions } from '../lib/libdaxctl.js';

const SECTOR = 512;

/** A bad range in bytes: `offset` from the start of the region. */
interface BadRange {
  offset: number;
  length: number;
}

/** The region's badblocks attribute ("<sector> <count>" lines) as byte ranges. */
function regionBadblocks(ctx: ToolContext, regionDir: string): BadRange[] {
  let text: string;
  try {
    text = ctx.kernel.sysfs.read(`${regionDir}/badblocks`);
  } catch {
    return [];
  }
  const out: BadRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)/.exec(line);
    if (m !== null) out.push({ offset: Number(m[1]) * SECTOR, length: Number(m[2]) * SECTOR });
  }
  return out;
}

const readNum = (ctx: ToolContext, path: string): number | null => {
  try {
    const v = Number(ctx.kernel.sysfs.read(path).trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
};

/**
 * badblocks_devdax_clear_one_badblock(): ARS capabilities for [address, address+length), then clear-error over
 * the same range; false when a command fails or clears less than asked.
 */
function clearOne(task: Task, fd: number, address: number, length: number): boolean {
  try {
    const cap = ndCmdArsCap(address, length);
    task.ioctl(fd, ND_IOCTL_ARS_CAP, cap);
    if ((cap.status & 0xffff) !== 0) return false;
    const unit = cap.clearErrUnit;
    if (unit === 0 || address % unit !== 0 || length % unit !== 0) return false;
    const clear = ndCmdClearError(address, length);
    task.ioctl(fd, ND_IOCTL_CLEAR_ERROR, clear);
    return (clear.status & 0xffff) === 0 && clear.cleared >= length;
  } catch {
    return false;
  }
}

/**
 * badblocks_clear_all() of /dev/<chardev>: true when nothing was left to clear (including when the device has no
 * region or claim device to look at), false when the range could not be read or a clear failed.
 */
export function badblocksClearAll(ctx: ToolContext, task: Task, chardev: string): boolean {
  const region = daxctlRegions(ctx.kernel).find((r) => r.devices.some((d) => d.name === chardev));
  if (region === undefined) return true;
  const regionDir = region.path.slice(0, region.path.lastIndexOf('/'));
  const busDir = regionDir.slice(0, regionDir.lastIndexOf('/'));
  const nsRes = readNum(ctx, `${region.path}/resource`);
  const nsSize = readNum(ctx, `${region.path}/size`);
  const regionRes = readNum(ctx, `${regionDir}/resource`);
  if (nsRes === null || nsSize === null || regionRes === null) return false;
  const nsBeg = nsRes - regionRes;
  const nsEnd = nsBeg + nsSize - 1;
  const ranges = regionBadblocks(ctx, regionDir).filter(
    (b) => b.offset <= nsEnd && b.offset + b.length - 1 >= nsBeg,
  );
  if (ranges.length === 0) return true;
  const bus = busDir.slice(busDir.lastIndexOf('/') + 1).replace(/^ndbus/, 'ndctl');
  let fd: number;
  try {
    fd = task.open(`/dev/${bus}`, O_RDWR);
  } catch {
    return false;
  }
  try {
    for (const b of ranges) {
      const beg = Math.max(b.offset, nsBeg);
      const end = Math.min(b.offset + b.length - 1, nsEnd);
      if (!clearOne(task, fd, regionRes + beg, end - beg + 1)) return false;
    }
    return true;
  } finally {
    task.close(fd);
  }
}
