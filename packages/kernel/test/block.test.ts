import { describe, expect, it } from 'vitest';
import { type BlockDeviceOperations, type Gendisk, setCapacity, setDiskRo } from '../src/block/genhd.js';
import type { Device } from '../src/drivers/base/core.js';
import { kerr } from '../src/errno.js';
import { O_RDONLY, O_RDWR, O_WRONLY } from '../src/fs/file_table.js';
import { S_IFBLK, S_IFCHR } from '../src/fs/inode.js';
import { mkdev } from '../src/include/kdev_t.js';
import type { Module, ModuleDefinition } from '../src/kernel/module.js';
import { Kernel } from '../src/kernel.js';
import { Badblocks } from '../src/lib/badblocks.js';
import { caught } from './toy_chrdev.js';

const errno = (code: string) => expect.objectContaining({ code });

interface ToyBlkOptions {
  name?: string;
  /** Capacity in sectors; default 64 (32 KiB). */
  sectors?: number;
  /** Give the disk a badblocks table. Default true. */
  badblocks?: boolean;
  parent?: Device | null;
}

/** A toy bio-based driver: a module whose disk is backed by a Uint8Array and fails I/O touching a bad sector. */
interface ToyBlk {
  def: ModuleDefinition<Record<string, never>, void>;
  disk: Gendisk | null;
  module: Module | null;
  mem: Uint8Array;
  bb: Badblocks;
  /** Requests the driver served: [op, offset, length]. */
  requests: Array<[string, number, number]>;
}

function toyBlk(kernel: Kernel, options: ToyBlkOptions = {}): ToyBlk {
  const name = options.name ?? 'toyblk0';
  const sectors = options.sectors ?? 64;
  const toy: ToyBlk = {
    def: null as unknown as ToyBlk['def'],
    disk: null,
    module: null,
    mem: new Uint8Array(sectors * 512),
    bb: new Badblocks(),
    requests: [],
  };
  const bad = (offset: number, len: number) => {
    const first = Math.floor(offset / 512);
    return toy.bb.check(first, Math.ceil((offset + len) / 512) - first).rv !== 0;
  };
  const fops: BlockDeviceOperations = {
    owner: null,
    read(_disk, offset, dst) {
      toy.requests.push(['read', offset, dst.length]);
      if (bad(offset, dst.length)) throw kerr('EIO', 'toy_read');
      dst.set(toy.mem.subarray(offset, offset + dst.length));
    },
    write(_disk, offset, src) {
      toy.requests.push(['write', offset, src.length]);
      if (bad(offset, src.length)) throw kerr('EIO', 'toy_write');
      toy.mem.set(src, offset);
    },
  };
  toy.def = {
    name: name.replace(/\d+$/, ''),
    async init(ctx) {
      fops.owner = ctx.module;
      toy.module = ctx.module;
      const disk = kernel.block.allocDisk({ diskName: name, fops, privateData: toy });
      if (disk === null) throw kerr('ENOMEM', 'toy_init');
      if (options.badblocks ?? true) disk.bb = toy.bb;
      setCapacity(disk, sectors);
      try {
        await kernel.block.deviceAddDisk(options.parent ?? null, disk);
      } catch (e) {
        kernel.block.putDisk(disk);
        throw e;
      }
      toy.disk = disk;
    },
    async exit() {
      await kernel.block.delGendisk(toy.disk!);
      kernel.block.putDisk(toy.disk);
      toy.disk = null;
    },
  };
  return toy;
}

async function loadToyBlk(kernel: Kernel, options: ToyBlkOptions = {}): Promise<ToyBlk> {
  const toy = toyBlk(kernel, options);
  await kernel.modules.insmod(toy.def);
  return toy;
}

function baseline(kernel: Kernel) {
  return {
    sysfs: kernel.sysfs.nodeCount,
    inodes: kernel.devtmpfs.inodes,
    devices: kernel.driverCore.liveDeviceCount,
    block: kernel.block.counts,
    nodes: kernel.devtmpfs.list(),
  };
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe('gendisk in sysfs and /dev (device_add_disk)', () => {
  it('a disk under a parent: /sys/devices/<parent>/block/<disk>, class and /sys/block links, attributes', async () => {
    const kernel = new Kernel();
    const parent = await kernel.driverCore.rootDeviceRegister('toyhost');
    const toy = await loadToyBlk(kernel, { parent, sectors: 64 });
    const { sysfs } = kernel;
    const dir = '/sys/devices/toyhost/block/toyblk0';
    expect(sysfs.realpath('/sys/class/block/toyblk0')).toBe(dir);
    expect(sysfs.realpath('/sys/block/toyblk0')).toBe(dir);
    expect(sysfs.readlink('/sys/block/toyblk0')).toBe('../devices/toyhost/block/toyblk0');
    expect(sysfs.realpath('/sys/dev/block/259:0')).toBe(dir);
    expect(sysfs.exists('/sys/dev/char/259:0')).toBe(false);
    expect(sysfs.realpath(`${dir}/subsystem`)).toBe('/sys/class/block');
    expect(sysfs.realpath(`${dir}/device`)).toBe('/sys/devices/toyhost');
    expect(sysfs.readdir(dir)).toEqual([
      'badblocks',
      'capability',
      'dev',
      'device',
      'ext_range',
      'holders',
      'range',
      'removable',
      'ro',
      'size',
      'slaves',
      'subsystem',
      'uevent',
    ]);
    expect(sysfs.read(`${dir}/size`)).toBe('64\n');
    expect(sysfs.read(`${dir}/ro`)).toBe('0\n');
    expect(sysfs.read(`${dir}/dev`)).toBe('259:0\n');
    expect(sysfs.read(`${dir}/range`)).toBe('0\n');
    expect(sysfs.read(`${dir}/ext_range`)).toBe('256\n');
    expect(sysfs.read(`${dir}/removable`)).toBe('0\n');
    expect(sysfs.read(`${dir}/capability`)).toBe('50\n');
    expect(sysfs.read(`${dir}/uevent`)).toBe('MAJOR=259\nMINOR=0\nDEVNAME=toyblk0\nDEVTYPE=disk\n');
    expect(sysfs.readdir('/sys/block')).toEqual(['toyblk0']);
    const disk = toy.disk!;
    expect([disk.major, disk.firstMinor, disk.dev.devt]).toEqual([259, 0, mkdev(259, 0)]);
    expect(disk.parent).toBe(parent);
    expect(kernel.block.devToDisk(disk.dev)).toBe(disk);
    setCapacity(disk, 100);
    setDiskRo(disk, true);
    expect(sysfs.read('/sys/block/toyblk0/size')).toBe('100\n');
    expect(sysfs.read('/sys/block/toyblk0/ro')).toBe('1\n');
    expect(kernel.block.procDevices()).toBe('Block devices:\n259 blkext\n');
    expect(kernel.log.warnings).toBe(0);
  });

  it('a parentless disk lives in /sys/devices/virtual/block', async () => {
    const kernel = new Kernel();
    await loadToyBlk(kernel);
    expect(kernel.sysfs.realpath('/sys/block/toyblk0')).toBe('/sys/devices/virtual/block/toyblk0');
  });

  it('badblocks shows and stores the driver table; it is absent for a disk without one', async () => {
    const kernel = new Kernel();
    const toy = await loadToyBlk(kernel);
    const path = '/sys/block/toyblk0/badblocks';
    expect(kernel.sysfs.read(path)).toBe('');
    toy.bb.set(40, 8, true);
    expect(kernel.sysfs.read(path)).toBe('40 8\n');
    await kernel.sysfs.write(path, '8 2\n');
    expect(kernel.sysfs.read(path)).toBe('8 2\n40 8\n');
    await expect(kernel.sysfs.write(path, 'junk\n')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(kernel.sysfs.write(path, '8 0\n')).rejects.toMatchObject({ code: 'EINVAL' });
    expect(toy.bb.count).toBe(2);

    const other = new Kernel();
    await loadToyBlk(other, { badblocks: false });
    expect(other.sysfs.exists('/sys/block/toyblk0/badblocks')).toBe(false);
    expect(other.sysfs.exists('/sys/block/toyblk0/size')).toBe(true);
  });

  it('/dev/<disk> is an S_IFBLK node of the disk dev_t; character devices keep S_IFCHR', async () => {
    const kernel = new Kernel();
    await loadToyBlk(kernel);
    expect(kernel.devtmpfs.stat('/dev/toyblk0')).toEqual({ mode: S_IFBLK | 0o600, rdev: mkdev(259, 0) });
    expect(kernel.devtmpfs.mode('/dev/toyblk0')).toBe(0o600);
    const cls = kernel.driverCore.classCreate('misc');
    const dev = await kernel.driverCore.deviceCreate(cls, null, mkdev(10, 1), null, 'thing');
    expect(kernel.devtmpfs.stat('/dev/thing')).toEqual({ mode: S_IFCHR | 0o600, rdev: mkdev(10, 1) });
    expect(kernel.sysfs.exists('/sys/dev/char/10:1')).toBe(true);
    await kernel.driverCore.deviceUnregister(dev);
    // devtmpfs_delete_node leaves a node whose file type does not match
    kernel.devtmpfs.deleteNode('toyblk0', mkdev(259, 0));
    expect(kernel.devtmpfs.lookup('/dev/toyblk0')).toBe(mkdev(259, 0));
  });

  it('disks take consecutive minors; a released minor is reused', async () => {
    const kernel = new Kernel();
    const a = await loadToyBlk(kernel, { name: 'alpha0' });
    const b = await loadToyBlk(kernel, { name: 'beta0' });
    expect(kernel.sysfs.read('/sys/block/beta0/dev')).toBe('259:1\n');
    expect(kernel.block.counts).toEqual({ disks: 2, minors: 2, bdevs: 0 });
    await kernel.modules.rmmod(a.def);
    expect(kernel.block.counts).toEqual({ disks: 1, minors: 1, bdevs: 0 });
    const c = await loadToyBlk(kernel, { name: 'gamma0' });
    expect(c.disk!.firstMinor).toBe(0);
    expect(b.disk!.firstMinor).toBe(1);
  });
});

describe('open(2), read(2), write(2) of /dev/<disk> (blkdev_open, def_blk_fops)', () => {
  it('round trip through read/write at the file position and pread/pwrite', async () => {
    const kernel = new Kernel();
    const toy = await loadToyBlk(kernel, { sectors: 64 });
    const t = kernel.spawn('dd');
    const fd = t.open('/dev/toyblk0', O_RDWR);
    expect(t.write(fd, bytes(1, 2, 3))).toBe(3);
    expect(t.write(fd, bytes(4, 5))).toBe(2);
    expect([...toy.mem.subarray(0, 6)]).toEqual([1, 2, 3, 4, 5, 0]);
    expect(t.pwrite(fd, bytes(9, 8, 7), 5000)).toBe(3);
    expect([...toy.mem.subarray(5000, 5003)]).toEqual([9, 8, 7]);
    const buf = new Uint8Array(4);
    expect(t.pread(fd, buf, 4999)).toBe(4);
    expect([...buf]).toEqual([0, 9, 8, 7]);
    // pread/pwrite leave the file position alone: read(2) continues at 5
    const next = new Uint8Array(2);
    toy.mem.set([6, 7], 5);
    expect(t.read(fd, next)).toBe(2);
    expect([...next]).toEqual([6, 7]);
    t.close(fd);
    expect(kernel.log.warnings).toBe(0);
  });

  it('the driver sees whole pages for reads and whole blocks for writes, reading a block it partly writes', async () => {
    const kernel = new Kernel();
    const toy = await loadToyBlk(kernel, { sectors: 64 });
    const t = kernel.spawn('dd');
    const fd = t.open('/dev/toyblk0');
    t.pread(fd, new Uint8Array(10), 5000);
    expect(toy.requests).toEqual([['read', 4096, 4096]]);
    toy.requests.length = 0;
    t.pread(fd, new Uint8Array(5000), 4000);
    expect(toy.requests).toEqual([
      ['read', 0, 4096],
      ['read', 4096, 4096],
      ['read', 8192, 4096],
    ]);
    toy.requests.length = 0;
    t.pwrite(fd, new Uint8Array(4096).fill(1), 8192);
    expect(toy.requests).toEqual([['write', 8192, 4096]]);
    toy.requests.length = 0;
    t.pwrite(fd, new Uint8Array(10).fill(2), 4100);
    expect(toy.requests).toEqual([
      ['read', 4096, 4096],
      ['write', 4096, 4096],
    ]);
    // a capacity that is not a multiple of 1 KiB gives 512-byte blocks
    const odd = new Kernel();
    const small = await loadToyBlk(odd, { sectors: 9 });
    const u = odd.spawn('dd');
    const ufd = u.open('/dev/toyblk0');
    u.pwrite(ufd, new Uint8Array(10), 600);
    expect(small.requests).toEqual([
      ['read', 512, 512],
      ['write', 512, 512],
    ]);
    small.requests.length = 0;
    expect(u.pread(ufd, new Uint8Array(8192), 0)).toBe(9 * 512);
    expect(small.requests).toEqual([
      ['read', 0, 4096],
      ['read', 4096, 512],
    ]);
  });

  it('reads at or past the end return 0 and stop at the end; writes past the end are ENOSPC or cut short', async () => {
    const kernel = new Kernel();
    const toy = await loadToyBlk(kernel, { sectors: 16 });
    const t = kernel.spawn('dd');
    const fd = t.open('/dev/toyblk0');
    const size = 16 * 512;
    expect(t.pread(fd, new Uint8Array(10), size)).toBe(0);
    expect(t.pread(fd, new Uint8Array(10), size + 100000)).toBe(0);
    expect(t.pread(fd, new Uint8Array(10), size - 4)).toBe(4);
    expect(caught(() => t.pwrite(fd, bytes(1), size))).toMatchObject({ code: 'ENOSPC', syscall: 'write' });
    expect(t.pwrite(fd, new Uint8Array(10).fill(3), size - 4)).toBe(4);
    expect([...toy.mem.subarray(size - 5)]).toEqual([0, 3, 3, 3, 3]);
    expect(t.pwrite(fd, new Uint8Array(0), size)).toBe(0);
    expect(t.pread(fd, new Uint8Array(0), 0)).toBe(0);
    expect(() => t.pread(fd, new Uint8Array(1), -1)).toThrow(errno('EINVAL'));
    expect(() => t.pwrite(fd, new Uint8Array(1), -1)).toThrow(errno('EINVAL'));
  });

  it('O_RDONLY writes and O_WRONLY reads are EBADF; a read-only disk refuses writes with EPERM', async () => {
    const kernel = new Kernel();
    const toy = await loadToyBlk(kernel);
    const t = kernel.spawn('dd');
    const ro = t.open('/dev/toyblk0', O_RDONLY);
    const wo = t.open('/dev/toyblk0', O_WRONLY);
    expect(caught(() => t.write(ro, bytes(1)))).toMatchObject({ code: 'EBADF', syscall: 'write' });
    expect(() => t.read(wo, new Uint8Array(1))).toThrow(errno('EBADF'));
    setDiskRo(toy.disk!, true);
    expect(caught(() => t.pwrite(wo, bytes(1), 0))).toMatchObject({ code: 'EPERM' });
    setDiskRo(toy.disk!, false);
    expect(t.pwrite(wo, bytes(1), 0)).toBe(1);
  });

  it('a bad sector fails reads of its page with EIO, or cuts a longer read short', async () => {
    const kernel = new Kernel();
    const toy = await loadToyBlk(kernel, { sectors: 64 });
    toy.mem.fill(0x5a);
    await kernel.sysfs.write('/sys/block/toyblk0/badblocks', '9 1\n');
    const t = kernel.spawn('dd');
    const fd = t.open('/dev/toyblk0');
    // sector 9 is bytes 4608..5119, in the page at 4096; sector 8 shares that page
    expect(caught(() => t.pread(fd, new Uint8Array(1), 4096))).toMatchObject({
      code: 'EIO',
      errno: -5,
      syscall: 'read',
    });
    expect(t.pread(fd, new Uint8Array(1), 8192)).toBe(1);
    const buf = new Uint8Array(8192);
    expect(t.pread(fd, buf, 0)).toBe(4096);
    expect(buf[4095]).toBe(0x5a);
    expect(buf[4096]).toBe(0);
    // a write that fills the bad block goes to the driver, which refuses it; a partial one fails its read
    expect(() => t.pwrite(fd, new Uint8Array(4096), 4096)).toThrow(errno('EIO'));
    expect(() => t.pwrite(fd, bytes(1), 4096)).toThrow(errno('EIO'));
    expect(t.pwrite(fd, new Uint8Array(8192).fill(1), 0)).toBe(4096);
    toy.bb.clear(9, 1);
    expect(t.pread(fd, new Uint8Array(1), 4096)).toBe(1);
  });
});

describe('lifetime: del_gendisk while open, module pins, leaks', () => {
  it('after del_gendisk an open file gets EIO (and 0 past its size); the minor lives until the last close', async () => {
    const kernel = new Kernel();
    const base = baseline(kernel);
    const toy = await loadToyBlk(kernel, { sectors: 64 });
    const disk = toy.disk!;
    const t = kernel.spawn('dd');
    const fd = t.open('/dev/toyblk0');
    expect(kernel.block.counts).toEqual({ disks: 1, minors: 1, bdevs: 1 });
    // the driver unplugs its disk while the file is open, as pmem's devres does on unbind
    await kernel.block.delGendisk(disk);
    kernel.block.putDisk(disk);
    expect(kernel.sysfs.exists('/sys/block/toyblk0')).toBe(false);
    expect(kernel.sysfs.exists('/sys/class/block/toyblk0')).toBe(false);
    expect(kernel.sysfs.exists('/sys/dev/block/259:0')).toBe(false);
    expect(kernel.devtmpfs.lookup('/dev/toyblk0')).toBeUndefined();
    expect(() => t.open('/dev/toyblk0')).toThrow(errno('ENOENT'));
    toy.requests.length = 0;
    expect(caught(() => t.pread(fd, new Uint8Array(8), 0))).toMatchObject({ code: 'EIO', syscall: 'read' });
    expect(caught(() => t.pwrite(fd, bytes(1), 4096))).toMatchObject({ code: 'EIO', syscall: 'write' });
    expect(t.pread(fd, new Uint8Array(8), 64 * 512)).toBe(0);
    expect(toy.requests).toEqual([]);
    const log = kernel.log.records().map((r) => r.text);
    expect(log.slice(-4)).toEqual([
      'attempt to access beyond end of device',
      'toyblk0: rw=0, want=8, limit=0',
      'attempt to access beyond end of device',
      'toyblk0: rw=0, want=16, limit=0',
    ]);
    expect(disk.capacity).toBe(0);
    // the open file still pins the disk (its minor) and the module
    expect(kernel.block.counts).toEqual({ disks: 1, minors: 1, bdevs: 0 });
    expect(toy.module!.refcnt).toBe(1);
    t.close(fd);
    expect(toy.module!.refcnt).toBe(0);
    expect(kernel.block.counts).toEqual(base.block);
    expect(kernel.driverCore.liveDeviceCount).toBe(base.devices);
    expect(kernel.log.warnings).toBe(0);
  });

  it('a disk added again after del_gendisk gets a fresh block device; the old file keeps failing', async () => {
    const kernel = new Kernel();
    const first = await loadToyBlk(kernel, { name: 'one0' });
    const t = kernel.spawn('dd');
    const old = t.open('/dev/one0');
    // rmmod is refused while open: unplug the disk by hand instead
    await expect(kernel.modules.rmmod(first.def)).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    await kernel.block.delGendisk(first.disk!);
    kernel.block.putDisk(first.disk);
    const second = await loadToyBlk(kernel, { name: 'two0' });
    expect(second.disk!.firstMinor).toBe(1);
    const fd = t.open('/dev/two0');
    expect(t.pwrite(fd, bytes(7), 0)).toBe(1);
    expect(second.mem[0]).toBe(7);
    expect(() => t.pread(old, new Uint8Array(1), 0)).toThrow(errno('EIO'));
    t.exit();
    expect(kernel.block.counts).toEqual({ disks: 1, minors: 1, bdevs: 0 });
  });

  it('rmmod of the driver is refused while the disk is open; the first opener holds the one pin', async () => {
    const kernel = new Kernel();
    const base = baseline(kernel);
    const toy = await loadToyBlk(kernel);
    const t = kernel.spawn('a');
    const u = kernel.spawn('b');
    const fd = t.open('/dev/toyblk0');
    expect(u.open('/dev/toyblk0', O_RDONLY)).toBe(3);
    expect(toy.module!.refcnt).toBe(1);
    expect(kernel.sysfs.read('/sys/module/toyblk/refcnt')).toBe('1\n');
    await expect(kernel.modules.rmmod('toyblk')).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    t.close(fd);
    expect(toy.module!.refcnt).toBe(1);
    await expect(kernel.modules.rmmod('toyblk')).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    u.exit();
    expect(toy.module!.refcnt).toBe(0);
    await kernel.modules.rmmod('toyblk');
    t.exit();
    expect(baseline(kernel)).toEqual(base);
    expect(kernel.log.warnings).toBe(0);
  });

  it('load, open, read, close and unload leave sysfs, /dev, devices and the block layer as they were', async () => {
    const kernel = new Kernel();
    const parent = await kernel.driverCore.rootDeviceRegister('host');
    const base = baseline(kernel);
    for (let round = 0; round < 3; round++) {
      const toy = await loadToyBlk(kernel, { parent });
      expect(kernel.sysfs.realpath('/sys/block/toyblk0')).toBe('/sys/devices/host/block/toyblk0');
      const t = kernel.spawn('dd');
      const fd = t.open('/dev/toyblk0');
      t.pwrite(fd, bytes(round), 0);
      t.exit();
      expect(toy.mem[0]).toBe(round);
      await kernel.modules.rmmod(toy.def);
      expect(baseline(kernel)).toEqual(base);
    }
    expect(kernel.sysfs.readdir('/sys/devices/host')).toEqual(['uevent']);
  });
});

describe('errors', () => {
  it('open of a block node no disk answers for is ENXIO and leaks nothing', async () => {
    const kernel = new Kernel();
    const base = baseline(kernel);
    kernel.devtmpfs.createNode('ghost', mkdev(259, 7), S_IFBLK | 0o600);
    const t = kernel.spawn('dd');
    expect(caught(() => t.open('/dev/ghost'))).toMatchObject({ code: 'ENXIO', syscall: 'open' });
    expect(kernel.block.counts).toEqual(base.block);
    kernel.devtmpfs.deleteNode('ghost', mkdev(259, 7), S_IFBLK);
    expect(kernel.devtmpfs.inodes).toBe(base.inodes);
  });

  it('alloc_disk failure is null; a failed device_add undoes the dev_t; adding twice is EBUSY', async () => {
    const kernel = new Kernel();
    const base = baseline(kernel);
    kernel.faultInject.arm('alloc_disk');
    await expect(loadToyBlk(kernel)).rejects.toMatchObject({ code: 'ENOMEM', syscall: 'toy_init' });
    kernel.faultInject.arm('device_add');
    await expect(loadToyBlk(kernel)).rejects.toMatchObject({ code: 'ENOMEM', syscall: 'device_add' });
    expect(baseline(kernel)).toEqual(base);
    const toy = await loadToyBlk(kernel);
    expect(toy.disk!.firstMinor).toBe(0);
    await expect(kernel.block.deviceAddDisk(null, toy.disk!)).rejects.toMatchObject({ code: 'EBUSY' });
    expect(kernel.log.warnings).toBe(1);
    await kernel.modules.rmmod(toy.def);
    expect(baseline(kernel)).toEqual(base);
  });

  it('a name already taken in /sys/block fails the add and leaves the first disk alone', async () => {
    const kernel = new Kernel();
    await loadToyBlk(kernel, { name: 'dup0' });
    const base = baseline(kernel);
    await expect(loadToyBlk(kernel, { name: 'dup0' })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(baseline(kernel)).toEqual(base);
    expect(kernel.sysfs.read('/sys/block/dup0/dev')).toBe('259:0\n');
  });

  it('del_gendisk of a disk never added warns and does nothing; putDisk(null) is a no-op', async () => {
    const kernel = new Kernel();
    const disk = kernel.block.allocDisk({
      diskName: 'never0',
      fops: { owner: null, read() {}, write() {} },
    })!;
    await kernel.block.delGendisk(disk);
    expect(kernel.log.warnings).toBe(1);
    kernel.block.putDisk(null);
    expect(kernel.block.counts.disks).toBe(1);
    kernel.block.putDisk(disk);
    expect(kernel.block.counts).toEqual({ disks: 0, minors: 0, bdevs: 0 });
  });

  it('set_capacity refuses counts whose size in bytes is not exact', () => {
    const kernel = new Kernel();
    const disk = kernel.block.allocDisk({ fops: { owner: null, read() {}, write() {} } })!;
    for (const bad of [-1, 1.5, 2 ** 44, Number.NaN])
      expect(() => setCapacity(disk, bad)).toThrow(errno('EINVAL'));
    setCapacity(disk, 2 ** 44 - 1);
    expect(disk.capacity).toBe(2 ** 44 - 1);
    kernel.block.putDisk(disk);
  });
});
