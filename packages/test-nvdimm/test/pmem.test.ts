/**
 * nd_pmem (drivers/nvdimm/pmem.c) over nfit_test: raw namespaces and fsdax (pfn) devices become disks of the
 * right capacity, block I/O reaches the media at the data offset, scrubbed media errors show as the disk's
 * badblocks and fail reads until a whole-block write clears them, and each disk registers a dax inode that
 * dax_get_by_host() finds by the disk's name while it is bound. nfit_test.1's label-less region is a
 * namespace_io whose size is fixed.
 */
import { type Kernel, O_RDWR, PFN_DEV, PFN_MAP, pfnTToPhys } from '@daxsim/kernel';
import { decodePfnSb, PFN_SB_OFFSET, PFN_SB_SIZE, PFN_SIG } from '@daxsim/nvdimm-sim';
import { describe, expect, it } from 'vitest';
import {
  bind,
  blockDevice,
  type CreateOptions,
  createNamespace,
  disableNamespace,
  driverOf,
  holder,
  read,
  regions,
  unbind,
  write,
  writeBlock,
} from './libndctl.js';
import { bootNfitTest, KiB, MiB, type NdStack } from './nd_fixture.js';

const ND = '/sys/bus/nd/devices';

const nsStart = (k: Kernel, ns: string): number => Number(read(k, ns, 'resource'));
const diskSectors = (k: Kernel, disk: string): number => Number(k.sysfs.read(`/sys/block/${disk}/size`));
const diskBadblocks = (k: Kernel, disk: string): string => k.sysfs.read(`/sys/block/${disk}/badblocks`);

/** The info block at namespace offset 4 KiB, decoded from the media. */
function mediaInfoBlock(k: Kernel, ns: string) {
  const buf = new Uint8Array(PFN_SB_SIZE);
  k.physmem.read(nsStart(k, ns) + PFN_SB_OFFSET, buf);
  return decodePfnSb(buf);
}

const pattern = (n: number, salt: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 13 + salt) & 0xff);

/** pread of `len` bytes at `pos` of /dev/<disk> from a fresh task. */
function readBlock(k: Kernel, disk: string, pos: number, len: number): Uint8Array {
  const t = k.spawn('reader');
  try {
    const fd = t.open(`/dev/${disk}`, O_RDWR);
    const buf = new Uint8Array(len);
    expect(t.pread(fd, buf, pos)).toBe(len);
    return buf;
  } finally {
    t.exit();
    k.reapTask(t);
  }
}

/** ndctl start-scrub + wait-scrub on the bus of `region`. */
async function scrub(k: Kernel, region: string): Promise<void> {
  const busDir = k.sysfs.realpath(`${ND}/${region}/..`);
  await k.sysfs.write(`${busDir}/nfit/scrub`, '1\n');
}

/** A namespace of `region` in `mode`, with the device that serves its disk and where the disk's data starts. */
async function diskNamespace(s: NdStack, region: string, o: CreateOptions) {
  const k = s.kernel;
  const ns = await createNamespace(k, region, o);
  const dev = holder(k, ns) ?? ns;
  const dataoff = o.mode === 'fsdax' ? mediaInfoBlock(k, ns).dataoff : 0;
  return { ns, dev, disk: blockDevice(k, dev), start: nsStart(k, ns), dataoff };
}

describe('raw namespaces', () => {
  it("nfit_test.1's label-less region is one namespace_io, a raw disk whose size cannot be written", async () => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const region = regions(k, 'nfit_test.1')[0]!;
    const id = region.slice('region'.length);
    const ns = read(k, region, 'namespace_seed');
    expect(ns).toBe(`namespace${id}.0`);
    expect(read(k, ns, 'nstype')).toBe('4');
    expect(read(k, region, 'nstype')).toBe('4');
    expect(k.sysfs.exists(`${ND}/${ns}/uuid`)).toBe(false);
    expect(k.sysfs.exists(`${ND}/${ns}/alt_name`)).toBe(false);
    const size = Number(read(k, region, 'size'));
    expect(size).toBe(32 * MiB);
    expect(read(k, ns, 'size')).toBe(String(size));
    expect(nsStart(k, ns)).toBe(Number(read(k, region, 'resource')));

    // bound raw by nd_pmem at boot
    expect(driverOf(k, ns)).toBe('nd_pmem');
    expect(read(k, ns, 'mode')).toBe('raw');
    const disk = blockDevice(k, ns);
    expect(disk).toBe(`pmem${id}`);
    expect(diskSectors(k, disk)).toBe(size / 512);

    for (const v of ['0', String(16 * MiB)])
      await expect(write(k, ns, 'size', v)).rejects.toMatchObject({ code: 'EACCES', syscall: 'open' });
    await unbind(k, ns);
    await expect(write(k, ns, 'size', '0')).rejects.toMatchObject({ code: 'EACCES' });
    expect(read(k, ns, 'size')).toBe(String(size));
    await bind(k, 'nd_pmem', ns);
    expect(diskSectors(k, blockDevice(k, ns))).toBe(size / 512);
  });

  it('a labelled raw namespace is a disk of size/512 sectors named pmemR, then pmemR.N', async () => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[1]!;
    const id = region.slice('region'.length);
    const a = await diskNamespace(s, region, { mode: 'raw', size: 16 * MiB });
    const b = await diskNamespace(s, region, { mode: 'raw', size: 32 * MiB });
    expect([a.ns, b.ns]).toEqual([`namespace${id}.0`, `namespace${id}.1`]);
    expect([a.dev, b.dev]).toEqual([a.ns, b.ns]);
    expect([a.disk, b.disk]).toEqual([`pmem${id}`, `pmem${id}.1`]);
    expect(diskSectors(k, a.disk)).toBe((16 * MiB) / 512);
    expect(diskSectors(k, b.disk)).toBe((32 * MiB) / 512);
    expect(b.start).toBe(a.start + 16 * MiB);
    expect(read(k, a.ns, 'mode')).toBe('raw');
  });
});

describe('fsdax', () => {
  // [map, align, dataoff]: map=dev reserves the memmap (64 bytes per page, padded to 2M); map=mem only 8K.
  it.each([
    ['dev', 2 * MiB, 2 * MiB],
    ['mem', 4 * KiB, 8 * KiB],
  ] as const)('map=%s align=%i: the disk is the namespace less dataoff %i', async (map, align, dataoff) => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[1]!;
    const size = 64 * MiB;
    const d = await diskNamespace(s, region, { mode: 'fsdax', map, align, size });
    expect(d.dev).toMatch(/^pfn\d+\.\d+$/);
    expect(driverOf(k, d.dev)).toBe('nd_pmem');
    expect(read(k, d.ns, 'mode')).toBe('memory');
    expect(d.disk).toBe(`pmem${region.slice('region'.length)}`);
    const sb = mediaInfoBlock(k, d.ns);
    expect(sb).toMatchObject({ signature: PFN_SIG, dataoff, align, npfns: (size - dataoff) / 4096 });
    expect(diskSectors(k, d.disk) * 512).toBe(size - sb.dataoff);
    expect(Number(read(k, d.dev, 'size'))).toBe(size - sb.dataoff);
    expect(Number(read(k, d.dev, 'resource'))).toBe(d.start + sb.dataoff);

    // sector 0 of the disk is namespace offset dataoff; the info block stays as it was
    const data = pattern(4096, 1);
    writeBlock(k, d.disk, 0, data);
    const media = new Uint8Array(4096);
    k.physmem.read(d.start + sb.dataoff, media);
    expect(media).toEqual(data);
    expect(mediaInfoBlock(k, d.ns)).toEqual(sb);
  });
});

describe.each(['raw', 'fsdax'] as const)('%s disk', (mode) => {
  const options: CreateOptions =
    mode === 'raw' ? { mode, size: 16 * MiB } : { mode, map: 'mem', align: 4 * KiB, size: 16 * MiB };

  it('block I/O round trip, at any offset and length, up to the end of the disk', async () => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[0]!;
    const d = await diskNamespace(s, region, options);
    const bytes = diskSectors(k, d.disk) * 512;
    expect(bytes).toBe(16 * MiB - d.dataoff);
    const cases: Array<[number, number]> = [
      [0, 512],
      [3 * 4096 + 100, 9000],
      [MiB - 7, 64],
      [bytes - 4096, 4096],
    ];
    for (const [i, [pos, len]] of cases.entries()) writeBlock(k, d.disk, pos, pattern(len, i));
    cases.forEach(([pos, len], i) => {
      expect(readBlock(k, d.disk, pos, len)).toEqual(pattern(len, i));
      const media = new Uint8Array(len);
      k.physmem.read(d.start + d.dataoff + pos, media);
      expect(media).toEqual(pattern(len, i));
    });

    const t = k.spawn('edge');
    const fd = t.open(`/dev/${d.disk}`, O_RDWR);
    expect(t.pread(fd, new Uint8Array(8192), bytes - 4096)).toBe(4096);
    expect(t.pread(fd, new Uint8Array(512), bytes)).toBe(0);
    expect(() => t.pwrite(fd, new Uint8Array(512), bytes)).toThrow(
      expect.objectContaining({ code: 'ENOSPC' }),
    );
    t.close(fd);
  });

  it('a scrubbed media error is a disk badblock: reads fail with EIO until a whole-block write clears it', async () => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[0]!;
    const d = await diskNamespace(s, region, options);
    const badOff = 5 * 4096 + 1024;
    const bad = d.start + d.dataoff + badOff;
    const regionStart = Number(read(k, region, 'resource'));
    const inst = s.nfitTest.instance('nfit_test.0');

    writeBlock(k, d.disk, 4 * 4096, pattern(3 * 4096, 7));
    inst.firmware.injectError(bad, 512);
    expect(diskBadblocks(k, d.disk)).toBe('');
    await scrub(k, region);
    expect(diskBadblocks(k, d.disk)).toBe(`${badOff / 512} 1\n`);
    expect(read(k, region, 'badblocks')).toBe(`${(bad - regionStart) / 512} 1`);

    const t = k.spawn('dd');
    const fd = t.open(`/dev/${d.disk}`, O_RDWR);
    const eio = expect.objectContaining({ code: 'EIO' });
    expect(() => t.pread(fd, new Uint8Array(512), badOff)).toThrow(eio);
    expect(() => t.pread(fd, new Uint8Array(16), 5 * 4096)).toThrow(eio);
    // a read that stops before the bad page returns what it could
    const around = new Uint8Array(2 * 4096);
    expect(t.pread(fd, around, 4 * 4096)).toBe(4096);
    expect(around.subarray(0, 4096)).toEqual(pattern(3 * 4096, 7).subarray(0, 4096));
    expect(t.pread(fd, new Uint8Array(4096), 6 * 4096)).toBe(4096);

    // the 4K block size makes a 512-byte write read its block first, which fails
    expect(() => t.pwrite(fd, new Uint8Array(512).fill(1), badOff)).toThrow(eio);
    expect(diskBadblocks(k, d.disk)).toBe(`${badOff / 512} 1\n`);

    const block = pattern(4096, 9);
    expect(t.pwrite(fd, block, 5 * 4096)).toBe(4096);
    expect(diskBadblocks(k, d.disk)).toBe('');
    expect(read(k, region, 'badblocks')).toBe('');
    const back = new Uint8Array(4096);
    expect(t.pread(fd, back, 5 * 4096)).toBe(4096);
    expect(back).toEqual(block);
    t.close(fd);

    await scrub(k, region);
    expect(diskBadblocks(k, d.disk)).toBe('');
    expect(inst.firmware.injectedErrors()).toEqual([]);
  });

  it("dax_get_by_host() finds the disk's dax inode while bound, and not after unbind", async () => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const dax = s.dax;
    const region = regions(k, 'nfit_test.0')[0]!;
    const d = await diskNamespace(s, region, options);
    expect(d.disk).toBe('pmem0');
    expect(dax.daxGetByHost('pmem1')).toBeNull();
    expect(dax.daxGetByHost(null)).toBeNull();

    const held = dax.daxGetByHost('pmem0');
    expect(held).not.toBeNull();
    expect(held!.host).toBe('pmem0');
    let id = dax.daxReadLock();
    const pages = (16 * MiB - d.dataoff) / 4096;
    try {
      const got = dax.daxDirectAccess(held, 1, 1 << 20);
      expect(got.avail).toBe(pages - 1);
      expect(pfnTToPhys(got.pfn!)).toBe(d.start + d.dataoff + 4096);
      expect(got.pfn!.flags).toBe(mode === 'raw' ? PFN_DEV : PFN_DEV | PFN_MAP);
    } finally {
      dax.daxReadUnlock(id);
    }

    await disableNamespace(k, d.ns);
    expect(driverOf(k, d.dev)).toBeNull();
    expect(dax.daxGetByHost('pmem0')).toBeNull();
    // a reference taken while bound keeps the inode, which is dead now
    id = dax.daxReadLock();
    try {
      expect(dax.daxInodeAlive(held!)).toBe(false);
      expect(() => dax.daxDirectAccess(held, 0, 1)).toThrow(expect.objectContaining({ code: 'ENXIO' }));
    } finally {
      dax.daxReadUnlock(id);
    }
    dax.putDaxInode(held);

    await bind(k, 'nd_pmem', d.dev);
    const again = dax.daxGetByHost('pmem0');
    expect(again).not.toBeNull();
    expect(again).not.toBe(held);
    dax.putDaxInode(again);
  });
});
