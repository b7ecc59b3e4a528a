/**
 * nd_pmem on a raw namespace: the disk, I/O from a task, the dax inode the driver registers under the disk's
 * name (dax_get_by_host / dax_direct_access), and media errors: a scrub makes a read fail and a write of whole
 * blocks clears the error everywhere it was known.
 */
import { KERNEL_VA_OFFSET, O_RDWR, PAGE_SIZE, PFN_DEV } from '@daxsim/kernel';
import { describe, expect, it } from 'vitest';
import {
  attr,
  bind,
  bootNd,
  createNamespace,
  driverOf,
  errnoOf,
  MiB,
  type NdTestStack,
  SPA0_BASE,
  store,
  unbind,
} from './platform.js';

const UUID = '3d2c1b0a-9f8e-4d7c-a6b5-4c3d2e1f0a9b';
const SIZE = 256 * MiB;

async function rawNamespace(s: NdTestStack): Promise<string> {
  const ns = await createNamespace(s.kernel, 'region0', SIZE, UUID);
  await bind(s.kernel, 'nd_pmem', ns);
  return ns;
}

function withDisk<T>(
  s: NdTestStack,
  disk: string,
  fn: (io: { fd: number; t: ReturnType<NdTestStack['kernel']['spawn']> }) => T,
): T {
  const t = s.kernel.spawn('dd');
  const fd = t.open(`/dev/${disk}`, O_RDWR);
  try {
    return fn({ fd, t });
  } finally {
    t.close(fd);
    t.exit();
    s.kernel.reapTask(t);
  }
}

describe('raw namespace', () => {
  it('binds through nd_pmem/bind and becomes /dev/pmem0 of the namespace size', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const ns = await rawNamespace(s);
    expect(driverOf(k, ns)).toBe('nd_pmem');
    expect(attr(k, ns, 'mode')).toBe('raw');
    expect(k.sysfs.read('/sys/block/pmem0/size')).toBe(`${SIZE / 512}\n`);
    expect(k.sysfs.realpath('/sys/block/pmem0')).toBe(
      '/sys/devices/nvdimm_sim_test/ndbus0/region0/namespace0.0/block/pmem0',
    );
    expect(k.devtmpfs.lookup('/dev/pmem0')).toBeDefined();
    expect(k.iomem.procIomem()).toContain(
      '100000000-13fffffff : Persistent Memory\n  100000000-10fffffff : namespace0.0\n',
    );
    // a raw namespace maps its media without struct pages
    expect(k.memremap.pgmapCount).toBe(0);
    // binding again, or to a driver that does not serve namespaces, is refused
    expect(await errnoOf(bind(k, 'nd_pmem', ns))).toBe('ENODEV');
    expect(await errnoOf(bind(k, 'nd_region', ns))).toBe('ENODEV');
    await unbind(k, ns);
    expect(k.devtmpfs.lookup('/dev/pmem0')).toBeUndefined();
    expect(k.sysfs.exists('/sys/block/pmem0')).toBe(false);
    expect(k.iomem.procIomem()).not.toContain('namespace0.0');
  });

  it('refuses to bind a namespace without capacity', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    expect(await errnoOf(bind(k, 'nd_pmem', 'namespace0.0'))).toBe('ENODEV');
    await store(k, 'namespace0.0', 'uuid', UUID);
    expect(await errnoOf(bind(k, 'nd_pmem', 'namespace0.0'))).toBe('ENODEV');
    expect(driverOf(k, 'namespace0.0')).toBeNull();
  });

  it('stores what a task writes on the namespace media and reads it back', async () => {
    await using s = await bootNd();
    await rawNamespace(s);
    const data = new TextEncoder().encode('raw pmem block device');
    withDisk(s, 'pmem0', ({ t, fd }) => {
      expect(t.pwrite(fd, data, 5 * MiB + 100)).toBe(data.length);
      const back = new Uint8Array(data.length);
      expect(t.pread(fd, back, 5 * MiB + 100)).toBe(data.length);
      expect(back).toEqual(data);
      // past the end
      expect(t.pread(fd, new Uint8Array(512), SIZE)).toBe(0);
      expect(() => t.pwrite(fd, data, SIZE)).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    });
    expect(s.nvdimms.readMedia(SPA0_BASE + 5 * MiB + 100, data.length)).toEqual(data);
  });

  it('registers a dax inode under the disk name that translates pages to the namespace', async () => {
    await using s = await bootNd();
    await rawNamespace(s);
    const { dax } = s;
    expect(dax.daxGetByHost('pmem1')).toBeNull();
    const d = dax.daxGetByHost('pmem0');
    expect(d).not.toBeNull();
    try {
      const id = dax.daxReadLock();
      try {
        const got = dax.daxDirectAccess(d, 16, 4);
        expect(got.avail).toBe(4);
        expect(got.kaddr).toBe(KERNEL_VA_OFFSET + SPA0_BASE + 16 * PAGE_SIZE);
        expect(got.pfn).toEqual({ pfn: SPA0_BASE / PAGE_SIZE + 16, flags: PFN_DEV });
        // the last page of the namespace
        const last = dax.daxDirectAccess(d, SIZE / PAGE_SIZE - 1, 8);
        expect(last.avail).toBe(1);
        expect(() => dax.daxDirectAccess(d, SIZE / PAGE_SIZE, 1)).toThrow(
          expect.objectContaining({ code: 'ERANGE' }),
        );
      } finally {
        dax.daxReadUnlock(id);
      }
    } finally {
      dax.putDaxInode(d);
    }
    await unbind(s.kernel, 'namespace0.0');
    expect(dax.daxGetByHost('pmem0')).toBeNull();
  });
});

describe('media errors on a raw namespace', () => {
  it('fail reads after a scrub and are cleared by writing whole sectors', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    await rawNamespace(s);
    const bad = 8 * MiB;
    s.firmware.injectError(SPA0_BASE + bad, 4096);
    // until a scrub finds it, the kernel only learns of it by touching it (memcpy_mcsafe)
    withDisk(s, 'pmem0', ({ t, fd }) => {
      expect(() => t.pread(fd, new Uint8Array(512), bad)).toThrow(expect.objectContaining({ code: 'EIO' }));
    });
    expect(k.sysfs.read('/sys/block/pmem0/badblocks')).toBe('');
    await store(k, 'ndbus0', 'nfit/scrub', '1');
    const sector = bad / 512;
    expect(k.sysfs.read('/sys/block/pmem0/badblocks')).toBe(`${sector} 8\n`);
    expect(attr(k, 'region0', 'badblocks')).toBe(`${sector} 8`);

    const { dax } = s;
    const d = dax.daxGetByHost('pmem0');
    const id = dax.daxReadLock();
    try {
      expect(() => dax.daxDirectAccess(d, bad / PAGE_SIZE, 1)).toThrow(
        expect.objectContaining({ code: 'EIO' }),
      );
      // outside the bad page, only what was asked for is promised while the disk has bad blocks
      expect(dax.daxDirectAccess(d, 0, 4).avail).toBe(4);
    } finally {
      dax.daxReadUnlock(id);
      dax.putDaxInode(d);
    }

    withDisk(s, 'pmem0', ({ t, fd }) => {
      expect(() => t.pread(fd, new Uint8Array(512), bad + 1024)).toThrow(
        expect.objectContaining({ code: 'EIO' }),
      );
      // a write of part of a sector must read the rest first, and that read fails
      expect(() => t.pwrite(fd, new Uint8Array(100), bad + 1024)).toThrow(
        expect.objectContaining({ code: 'EIO' }),
      );
      // a whole block (the disk's 4 KiB block size) is written without reading, clearing the poison first
      const fill = new Uint8Array(4096).fill(0x5a);
      expect(t.pwrite(fd, fill, bad)).toBe(4096);
      const back = new Uint8Array(4096);
      expect(t.pread(fd, back, bad)).toBe(4096);
      expect(back).toEqual(fill);
    });
    expect(k.sysfs.read('/sys/block/pmem0/badblocks')).toBe('');
    expect(attr(k, 'region0', 'badblocks')).toBe('');
    expect(s.nvdimms.errors).toEqual([]);
    expect(s.firmware.calls.get('clear_error')).toBe(1);
    expect(k.physmem.poisonRanges()).toEqual([]);
    // a later scrub finds nothing
    await store(k, 'ndbus0', 'nfit/scrub', '1');
    expect(k.sysfs.read('/sys/block/pmem0/badblocks')).toBe('');
  });

  it('clears only the blocks a write covers', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    await rawNamespace(s);
    s.firmware.injectError(SPA0_BASE + MiB, 8192);
    await store(k, 'ndbus0', 'nfit/scrub', '1');
    expect(k.sysfs.read('/sys/block/pmem0/badblocks')).toBe('2048 16\n');
    withDisk(s, 'pmem0', ({ t, fd }) => {
      expect(t.pwrite(fd, new Uint8Array(4096), MiB + 4096)).toBe(4096);
      expect(() => t.pread(fd, new Uint8Array(512), MiB)).toThrow(expect.objectContaining({ code: 'EIO' }));
    });
    expect(k.sysfs.read('/sys/block/pmem0/badblocks')).toBe('2048 8\n');
    expect(s.nvdimms.errors).toEqual([{ address: SPA0_BASE + MiB, length: 4096 }]);
    expect(attr(k, 'region0', 'badblocks')).toBe('2048 8');
  });
});
