import {
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  O_RDONLY,
  O_RDWR,
  PFN_DEV,
  PFN_MAP,
  PROT_READ,
  PROT_WRITE,
  Resource,
} from '@daxsim/kernel';
import { describe, expect, it } from 'vitest';
import { errno } from './errno.js';
import { bootDevDax, firstDifference, GiB, KiB, MiB } from './fixtures.js';

const RW = PROT_READ | PROT_WRITE;
const BASE = 64 * GiB;

describe('alloc_dax_region and devm_create_dax_dev', () => {
  it('publishes dax_region/{id,size,align} on the parent, daxR.N in the dax class and /dev/daxR.N', async () => {
    await using f = await bootDevDax();
    const res = f.claim(BASE, 64 * MiB);
    const region = await f.region(res, 2 * MiB);
    const daxDev = await f.devdax.devmCreateDaxDev(region, [res]);
    f.devdax.daxRegionPut(region);
    const { sysfs, devtmpfs } = f.kernel;
    const parentDir = '/sys/bus/dax_test/devices/dax_test.0';
    expect(sysfs.read(`${parentDir}/dax_region/id`)).toBe('0\n');
    expect(sysfs.read(`${parentDir}/dax_region/size`)).toBe(`${64 * MiB}\n`);
    expect(sysfs.read(`${parentDir}/dax_region/align`)).toBe(`${2 * MiB}\n`);
    expect(daxDev.dev.name).toBe('dax0.0');
    expect(sysfs.realpath('/sys/class/dax/dax0.0')).toBe('/sys/devices/dax_test.0/dax/dax0.0');
    expect(sysfs.read('/sys/class/dax/dax0.0/size')).toBe(`${64 * MiB}\n`);
    expect(devtmpfs.lookup('/dev/dax0.0')).toBe(daxDev.dev.devt);
    expect(sysfs.read('/sys/class/dax/dax0.0/dev')).toBe(
      `${daxDev.dev.devt >>> 20}:${daxDev.dev.devt & 0xfffff}\n`,
    );
  });

  it('numbers devices per region and sizes each from its resources', async () => {
    await using f = await bootDevDax();
    const res = f.claim(BASE, 16 * MiB);
    const region = await f.region(res, 4 * KiB);
    const a = await f.devdax.devmCreateDaxDev(region, [
      new Resource({ start: BASE, end: BASE + 4 * MiB - 1 }),
    ]);
    const b = await f.devdax.devmCreateDaxDev(region, [
      new Resource({ start: BASE + 4 * MiB, end: BASE + 8 * MiB - 1 }),
      new Resource({ start: BASE + 12 * MiB, end: BASE + 16 * MiB - 1 }),
    ]);
    f.devdax.daxRegionPut(region);
    expect([a.dev.name, b.dev.name]).toEqual(['dax0.0', 'dax0.1']);
    expect(f.kernel.sysfs.read('/sys/class/dax/dax0.1/size')).toBe(`${8 * MiB}\n`);
    expect(f.devdax.stats()).toEqual({ regions: 1, devices: 2 });
  });

  it('refuses a region on a parent that has drvdata, or one not aligned to align', async () => {
    await using f = await bootDevDax();
    const res = f.claim(BASE, 6 * MiB);
    const misaligned = new Resource({ start: BASE + 4 * KiB, end: BASE + 4 * MiB + 4 * KiB - 1 });
    expect(await f.devdax.allocDaxRegion(f.parent, 0, misaligned, 2 * MiB, 0, PFN_DEV | PFN_MAP)).toBeNull();
    expect(await f.devdax.allocDaxRegion(f.parent, 0, res, 4 * MiB, 0, PFN_DEV | PFN_MAP)).toBeNull();
    const region = await f.region(res, 2 * MiB);
    expect(await f.devdax.allocDaxRegion(f.parent, 1, res, 2 * MiB, 0, PFN_DEV | PFN_MAP)).toBeNull();
    expect(
      f.kernel.dmesg().some((l) => l.includes('dax_test.0: dax core failed to setup private data')),
    ).toBe(true);
    f.devdax.daxRegionPut(region);
    expect(f.kernel.log.warnings).toBe(1);
    f.expectedWarnings = 1;
    await f.unbind();
    expect(f.kernel.sysfs.exists('/sys/bus/dax_test/devices/dax_test.0/dax_region')).toBe(false);
    expect(f.devdax.stats().regions).toBe(0);
  });

  it('rejects a resource that is not align-aligned with EINVAL and leaves nothing behind', async () => {
    await using f = await bootDevDax();
    const res = f.claim(BASE, 8 * MiB);
    const region = await f.region(res, 2 * MiB);
    const bad = new Resource({ start: BASE, end: BASE + 3 * MiB - 1 });
    await expect(f.devdax.devmCreateDaxDev(region, [bad])).rejects.toMatchObject({ code: 'EINVAL' });
    expect(f.dax.stats().minors).toBe(0);
    expect((await f.devdax.devmCreateDaxDev(region, [res])).id).toBe(0);
    f.devdax.daxRegionPut(region);
  });

  it('fails with ENOMEM, not silently, when dax minors run out', async () => {
    await using f = await bootDevDax({ nr_dax: 256 });
    const hogs = Array.from({ length: 256 }, () => f.dax.allocDaxInode(null));
    expect(hogs.every((h) => h !== null)).toBe(true);
    const res = f.claim(BASE, 2 * MiB);
    const region = await f.region(res, 2 * MiB);
    await expect(f.devdax.devmCreateDaxDev(region, [res])).rejects.toMatchObject({ code: 'ENOMEM' });
    expect(f.kernel.sysfs.exists('/sys/class/dax/dax0.0')).toBe(false);
    expect(f.devdax.stats().devices).toBe(0);
    for (const h of hogs) {
      await f.dax.killDaxInode(h);
      f.dax.putDaxInode(h);
    }
    await expect(f.devdax.devmCreateDaxDev(region, [res])).rejects.toMatchObject({ code: 'ENOMEM' });
    await f.kernel.rcu.barrier();
    expect((await f.devdax.devmCreateDaxDev(region, [res])).dev.name).toBe('dax0.0');
    f.devdax.daxRegionPut(region);
  });
});

describe('mmap: check_vma', () => {
  it('MAP_PRIVATE fails with EINVAL', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 8 * MiB, 2 * MiB);
    const { t, fd } = f.open('private');
    expect(() => t.mmap(0, 2 * MiB, RW, MAP_PRIVATE, fd, 0)).toThrow(
      expect.objectContaining({ code: 'EINVAL', syscall: 'mmap' }),
    );
    expect(
      f.kernel.dmesg().some((l) => l.includes('dax0.0: private: dax_mmap: fail, attempted private mapping')),
    ).toBe(true);
    expect(t.mm.vmas).toHaveLength(0);
  });

  it('a vma whose start or end is not aligned to the region align fails with EINVAL', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 8 * MiB, 2 * MiB);
    const { t, fd } = f.open('unaligned');
    const good = t.mmap(0, 4 * MiB, RW, MAP_SHARED, fd, 0);
    expect(good % (2 * MiB)).toBe(0);
    t.munmap(good, 4 * MiB);
    expect(() => t.mmap(good + 4 * KiB, 2 * MiB, RW, MAP_SHARED | MAP_FIXED, fd, 0)).toThrow(errno('EINVAL'));
    expect(() => t.mmap(0, 3 * MiB, RW, MAP_SHARED, fd, 0)).toThrow(errno('EINVAL'));
    expect(() => t.mmap(0, 2 * MiB, RW, MAP_SHARED, fd, 4 * KiB)).toThrow(errno('EINVAL'));
    expect(f.kernel.dmesg().filter((l) => l.includes('fail, unaligned vma'))).toHaveLength(3);
    expect(t.mm.vmas).toHaveLength(0);
  });

  it('checks liveness before sharing: a dead device gives ENXIO even for MAP_PRIVATE', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 8 * MiB, 2 * MiB);
    const { t, fd } = f.open('order');
    await f.unbind();
    expect(() => t.mmap(0, 2 * MiB, RW, MAP_PRIVATE, fd, 0)).toThrow(errno('ENXIO'));
  });

  it('a PFN_DEV region without PFN_MAP needs MADV_DONTFORK, which mmap cannot have yet: EINVAL', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 8 * MiB, 4 * KiB, PFN_DEV);
    const { t, fd } = f.open('nopages');
    expect(() => t.mmap(0, 2 * MiB, RW, MAP_SHARED, fd, 0)).toThrow(errno('EINVAL'));
    expect(f.kernel.dmesg().some((l) => l.includes('fail, dax range requires MADV_DONTFORK'))).toBe(true);
  });

  it('PROT_WRITE on a read-only open is EACCES; a read-only shared mapping faults SIGSEGV on store', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 8 * MiB, 2 * MiB);
    const { t, fd } = f.open('ro', O_RDONLY);
    expect(() => t.mmap(0, 2 * MiB, RW, MAP_SHARED, fd, 0)).toThrow(errno('EACCES'));
    const addr = t.mmap(0, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
    expect(t.load(addr, 4)).toEqual(new Uint8Array(4));
    expect(() => t.store(addr, new Uint8Array([1]))).toThrow(
      expect.objectContaining({ signal: 'SIGSEGV', si_code: 2 }),
    );
  });

  it('has no read(2)/write(2): EINVAL, as a device-dax fd without ->read', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 2 * MiB, 2 * MiB);
    const { t, fd } = f.open('rw');
    expect(() => t.read(fd, new Uint8Array(8))).toThrow(
      expect.objectContaining({ code: 'EINVAL', syscall: 'read' }),
    );
    expect(() => t.write(fd, new Uint8Array(8))).toThrow(errno('EINVAL'));
  });
});

describe('mapped access', () => {
  it('a shared RW mapping reads back what was written, and a second mapping sees the same bytes', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 16 * MiB, 2 * MiB);
    const writer = f.kernel.spawn('writer');
    const reader = f.kernel.spawn('reader');
    const wfd = writer.open('/dev/dax0.0', O_RDWR);
    const rfd = reader.open('/dev/dax0.0', O_RDONLY);
    const w = writer.mmap(0, 16 * MiB, RW, MAP_SHARED, wfd, 0);
    const r = reader.mmap(0, 8 * MiB, PROT_READ, MAP_SHARED, rfd, 8 * MiB);
    const salt = Uint8Array.from({ length: 3 * MiB }, (_, i) => (i * 31 + 7) & 0xff);
    writer.store(w + 9 * MiB - 1234, salt);
    expect(firstDifference(writer.load(w + 9 * MiB - 1234, salt.length), salt)).toBe(-1);
    expect(firstDifference(reader.load(r + MiB - 1234, salt.length), salt)).toBe(-1);
    const again = writer.mmap(0, 16 * MiB, PROT_READ, MAP_SHARED, wfd, 0);
    expect(again).not.toBe(w);
    expect(firstDifference(writer.load(again + 9 * MiB - 1234, salt.length), salt)).toBe(-1);
    salt[0] = (salt[0] ?? 0) ^ 1;
    expect(firstDifference(writer.load(again + 9 * MiB - 1234, salt.length), salt)).toBe(0);
    expect(f.kernel.physmem.allocatedBytes).toBeGreaterThan(0);
  });

  it('maps at align-sized offsets: get_unmapped_area returns addresses congruent to the file offset', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 4 * GiB, GiB);
    const { t, fd } = f.open('align');
    const a = t.mmap(0, GiB, RW, MAP_SHARED, fd, 0);
    const b = t.mmap(0, 2 * GiB, RW, MAP_SHARED, fd, GiB);
    expect(a % GiB).toBe(0);
    expect(b % GiB).toBe(0);
    t.store(b, new Uint8Array([0xab]));
    expect(t.load(a, 1)[0]).toBe(0);
    const c = t.mmap(0, GiB, RW, MAP_SHARED, fd, GiB);
    expect(t.load(c, 1)[0]).toBe(0xab);
  });

  it('an access past the end of the device raises SIGBUS (the mapping may be larger than the device)', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 4 * MiB, 2 * MiB);
    const { t, fd } = f.open('beyond');
    const addr = t.mmap(0, 8 * MiB, RW, MAP_SHARED, fd, 0);
    t.store(addr + 4 * MiB - 1, new Uint8Array([1]));
    expect(() => t.load(addr + 4 * MiB, 1)).toThrow(
      expect.objectContaining({ signal: 'SIGBUS', si_code: 2, addr: addr + 4 * MiB }),
    );
  });
});

describe('unregister while mapped', () => {
  it('the next access raises SIGBUS, mmap on the open fd fails with ENXIO, and the device is freed at close', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 8 * MiB, 2 * MiB);
    const { t, fd } = f.open('victim');
    const addr = t.mmap(0, 8 * MiB, RW, MAP_SHARED, fd, 0);
    t.store(addr, new Uint8Array([42]));
    expect(t.load(addr, 1)[0]).toBe(42);
    await f.unbind();
    expect(f.kernel.devtmpfs.lookup('/dev/dax0.0')).toBeUndefined();
    expect(t.mm.pgtable.counts.pmd).toBe(0);
    let sig: unknown;
    try {
      t.load(addr, 1);
    } catch (e) {
      sig = e;
    }
    expect(sig).toMatchObject({ code: 'SIGBUS', signal: 'SIGBUS', signo: 7, si_code: 2, addr });
    expect(() => t.mmap(0, 2 * MiB, RW, MAP_SHARED, fd, 0)).toThrow(errno('ENXIO'));
    expect(() => t.open('/dev/dax0.0')).toThrow(errno('ENOENT'));
    expect(f.devdax.stats().devices).toBe(1);
    t.munmap(addr, 8 * MiB);
    t.close(fd);
    expect(f.devdax.stats().devices).toBe(0);
  });

  it('device_dax cannot be unloaded while a file is open on it', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 2 * MiB, 2 * MiB);
    const { t, fd } = f.open('holder');
    await expect(f.kernel.modules.rmmod('device_dax')).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    t.close(fd);
  });
});

describe('faults', () => {
  /** How many `size` slots the range [addr, addr+len) touches. */
  const slots = (addr: number, len: number, size: number) =>
    Math.floor((addr + len - 1) / size) - Math.floor(addr / size) + 1;

  it.each([
    [4 * KiB, { pte: 262144, pmd: 0, pud: 0 }],
    [2 * MiB, { pte: 0, pmd: 512, pud: 0 }],
    [GiB, { pte: 0, pmd: 0, pud: 1 }],
  ])(
    'reading a byte of every 4 KiB page of 1 GiB at align %i counts %o faults and allocates nothing',
    async (align, nopage) => {
      await using f = await bootDevDax();
      await f.device(BASE, GiB, align);
      const { t, fd } = f.open('reader', O_RDONLY);
      const addr = t.mmap(0, GiB, PROT_READ, MAP_SHARED, fd, 0);
      f.kernel.faultEvents.reset();
      const one = new Uint8Array(1);
      for (let off = 0; off < GiB; off += 4 * KiB) t.load(addr + off, one);
      const ev = f.kernel.faultEvents.snapshot();
      expect({ pte: ev.pte.nopage, pmd: ev.pmd.nopage, pud: ev.pud.nopage }).toEqual(nopage);
      // the mm tries each larger size once per slot the mapping touches before the driver falls back
      expect(ev.pud.fallback).toBe(align < GiB ? slots(addr, GiB, GiB) : 0);
      expect(ev.pmd.fallback).toBe(align < 2 * MiB ? slots(addr, GiB, 2 * MiB) : 0);
      expect(ev.pte.sigbus + ev.pmd.sigbus + ev.pud.sigbus).toBe(0);
      expect(f.kernel.physmem.allocatedBytes).toBe(0);
    },
  );

  it('a write after a read fault does not fault again; munmap drops the entry so the next map faults anew', async () => {
    await using f = await bootDevDax();
    await f.device(BASE, 4 * MiB, 2 * MiB);
    const { t, fd } = f.open('refault');
    const addr = t.mmap(0, 4 * MiB, RW, MAP_SHARED, fd, 0);
    f.kernel.faultEvents.reset();
    t.load(addr, 1);
    t.store(addr + 100, new Uint8Array([5]));
    expect(f.kernel.faultEvents.pmd.nopage).toBe(1);
    t.munmap(addr, 4 * MiB);
    const again = t.mmap(0, 4 * MiB, RW, MAP_SHARED, fd, 0);
    expect(t.load(again + 100, 1)[0]).toBe(5);
    expect(f.kernel.faultEvents.pmd.nopage).toBe(2);
  });

  it('a device of three discontiguous resources maps each page offset to its physical address', async () => {
    await using f = await bootDevDax();
    const res = f.claim(BASE, 64 * MiB);
    const region = await f.region(res, 2 * MiB);
    const parts = [
      new Resource({ start: BASE + 40 * MiB, end: BASE + 44 * MiB - 1 }),
      new Resource({ start: BASE + 2 * MiB, end: BASE + 4 * MiB - 1 }),
      new Resource({ start: BASE + 20 * MiB, end: BASE + 26 * MiB - 1 }),
    ];
    const daxDev = await f.devdax.devmCreateDaxDev(region, parts);
    f.devdax.daxRegionPut(region);
    expect(f.kernel.sysfs.read('/sys/class/dax/dax0.0/size')).toBe(`${12 * MiB}\n`);
    const expected = (pgoff: number) => {
      const off = pgoff * 4 * KiB;
      if (off < 4 * MiB) return BASE + 40 * MiB + off;
      if (off < 6 * MiB) return BASE + 2 * MiB + (off - 4 * MiB);
      if (off < 12 * MiB) return BASE + 20 * MiB + (off - 6 * MiB);
      return -1;
    };
    for (let pgoff = 0; pgoff < (13 * MiB) / (4 * KiB); pgoff += 97)
      expect(f.devdax.daxPgoffToPhys(daxDev, pgoff)).toBe(expected(pgoff));
    expect(f.devdax.daxPgoffToPhys(daxDev, (4 * MiB) / (4 * KiB) - 1, 2 * MiB)).toBe(-1);

    const { t, fd } = f.open('walker');
    const addr = t.mmap(0, 12 * MiB, RW, MAP_SHARED, fd, 0);
    for (let off = 0; off < 12 * MiB; off += 256 * KiB) {
      const tag = new Uint8Array(new Float64Array([off]).buffer);
      t.store(addr + off, tag);
    }
    for (let off = 0; off < 12 * MiB; off += 256 * KiB) {
      const got = new Uint8Array(8);
      f.kernel.physmem.read(expected(off / (4 * KiB)), got);
      expect(new Float64Array(got.buffer)[0]).toBe(off);
    }
    expect(f.kernel.faultEvents.pmd.nopage).toBe(6);
  });
});
