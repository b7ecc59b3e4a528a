/**
 * fsdax through the region's pfn seed on the real-hardware path: the info block nd_pfn_init writes (decoded from
 * the media), the pfn device's attributes, the disk's capacity, the memmap in the altmap, validation on rebind,
 * a new uuid rewriting the block, settings mismatches, read-only regions, and the altmap too small for a
 * namespace under 128 MiB.
 */
import { PAGE_SIZE } from '@daxsim/kernel';
import { describe, expect, it } from 'vitest';
import {
  decodePfnSb,
  PFN_MODE_PMEM,
  PFN_MODE_RAM,
  PFN_SB_OFFSET,
  PFN_SB_SIZE,
  PFN_SIG,
  uuidToString,
} from '../src/index.js';
import {
  attr,
  bind,
  bootNd,
  createNamespace,
  driverOf,
  enableFsdax,
  errnoOf,
  MiB,
  type NdTestStack,
  SPA0_BASE,
  SPA1_BASE,
  store,
  unbind,
} from './platform.js';

const NS_UUID = '5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170';
const PFN_UUID = 'a1a2a3a4-b1b2-4c1c-8d1d-e1e2e3e4e5e6';
const PFN_UUID2 = 'f0f1f2f3-0405-4607-8809-0a0b0c0d0e0f';
const SIZE = 256 * MiB;
/** map=dev, align 2 MiB: 8 KiB + 64 bytes per page of memmap, rounded up to 2 MiB. */
const DATAOFF = 6 * MiB;

function infoBlock(s: NdTestStack, nsStart: number) {
  return s.nvdimms.readMedia(nsStart + PFN_SB_OFFSET, PFN_SB_SIZE);
}

async function fsdax(s: NdTestStack, o: { mode?: 'pmem' | 'ram'; align?: number } = {}) {
  const ns = await createNamespace(s.kernel, 'region0', SIZE, NS_UUID);
  const pfn = await enableFsdax(s.kernel, 'region0', ns, { uuid: PFN_UUID, ...o });
  return { ns, pfn };
}

describe('fsdax on a pfn device', () => {
  it('writes the info block, sizes the disk after it and takes the memmap from the namespace', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const { ns, pfn } = await fsdax(s);
    expect(pfn).toBe('pfn0.0');
    expect(driverOf(k, pfn)).toBe('nd_pmem');
    expect(attr(k, ns, 'mode')).toBe('memory');
    expect(attr(k, ns, 'holder')).toBe('pfn0.0');
    expect(attr(k, 'region0', 'pfn_seed')).toBe('pfn0.1');
    expect(attr(k, pfn, 'namespace')).toBe(ns);
    expect(attr(k, pfn, 'mode')).toBe('pmem');
    expect(attr(k, pfn, 'align')).toBe(String(2 * MiB));
    expect(attr(k, pfn, 'resource')).toBe(`0x${(SPA0_BASE + DATAOFF).toString(16)}`);
    expect(attr(k, pfn, 'size')).toBe(String(SIZE - DATAOFF));
    expect(k.sysfs.read('/sys/block/pmem0/size')).toBe(`${(SIZE - DATAOFF) / 512}\n`);
    expect(k.sysfs.realpath('/sys/block/pmem0')).toBe(
      '/sys/devices/nvdimm_sim_test/ndbus0/region0/pfn0.0/block/pmem0',
    );

    const block = infoBlock(s, SPA0_BASE);
    expect(new TextDecoder('latin1').decode(block.subarray(0, 16))).toBe('NVDIMM_PFN_INFO\0');
    const sb = decodePfnSb(block);
    expect(sb.signature).toBe(PFN_SIG);
    expect(uuidToString(sb.uuid)).toBe(PFN_UUID);
    expect(uuidToString(sb.parentUuid)).toBe(NS_UUID);
    expect(sb).toMatchObject({
      versionMajor: 1,
      versionMinor: 2,
      mode: PFN_MODE_PMEM,
      dataoff: DATAOFF,
      npfns: (SIZE - DATAOFF) / PAGE_SIZE,
      startPad: 0,
      endTrunc: 0,
      align: 2 * MiB,
      flags: 0,
    });

    // devm_memremap_pages: one pgmap over two sections, each section's memmap a 2 MiB block of the altmap
    expect(k.memremap.pgmapCount).toBe(1);
    expect(k.memremap.altmapPagesInUse).toBe(2 * 512);
    expect(k.memremap.vmemmapRamBytes).toBe(0);
    expect(k.iomem.procIomem()).toContain('  100000000-10fffffff : namespace0.0\n');

    // the dax inode of the disk starts at the data
    const d = s.dax.daxGetByHost('pmem0');
    const id = s.dax.daxReadLock();
    try {
      const got = s.dax.daxDirectAccess(d, 0, 1);
      expect(got.pfn).toEqual({ pfn: (SPA0_BASE + DATAOFF) / PAGE_SIZE, flags: 0b1100 });
    } finally {
      s.dax.daxReadUnlock(id);
      s.dax.putDaxInode(d);
    }

    await unbind(k, pfn);
    expect(k.memremap.pgmapCount).toBe(0);
    expect(k.memremap.altmapPagesInUse).toBe(0);
    expect(await errnoOf(() => attr(k, pfn, 'resource'))).toBe('ENXIO');
    expect(await errnoOf(() => attr(k, pfn, 'size'))).toBe('ENXIO');
  });

  it('validates the same block on rebind without rewriting it', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const { ns, pfn } = await fsdax(s);
    const before = infoBlock(s, SPA0_BASE);
    const data = new TextEncoder().encode('kept across rebind');
    const t = k.spawn('dd');
    const fd = t.open('/dev/pmem0');
    t.pwrite(fd, data, 4096);
    t.close(fd);
    await unbind(k, pfn);
    // a settings change that unbound is allowed, then put back
    await store(k, pfn, 'align', '4096');
    await store(k, pfn, 'align', String(2 * MiB));
    await bind(k, 'nd_pmem', pfn);
    expect(driverOf(k, pfn)).toBe('nd_pmem');
    expect(infoBlock(s, SPA0_BASE)).toEqual(before);
    expect(attr(k, pfn, 'size')).toBe(String(SIZE - DATAOFF));
    const fd2 = t.open('/dev/pmem0');
    const back = new Uint8Array(data.length);
    t.pread(fd2, back, 4096);
    expect(back).toEqual(data);
    expect(s.nvdimms.readMedia(SPA0_BASE + DATAOFF + 4096, data.length)).toEqual(data);
    t.close(fd2);
    expect(attr(k, ns, 'holder')).toBe(pfn);
  });

  it('rewrites the block for a pfn device with another uuid', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const { ns, pfn } = await fsdax(s);
    await unbind(k, pfn);
    await store(k, pfn, 'namespace', '');
    expect(attr(k, ns, 'holder')).toBe('');
    const seed = attr(k, 'region0', 'pfn_seed');
    expect(seed).toBe('pfn0.1');
    await store(k, seed, 'uuid', PFN_UUID2);
    await store(k, seed, 'mode', 'ram');
    await store(k, seed, 'namespace', ns);
    await bind(k, 'nd_pmem', seed);
    expect(driverOf(k, seed)).toBe('nd_pmem');
    const sb = decodePfnSb(infoBlock(s, SPA0_BASE));
    expect(uuidToString(sb.uuid)).toBe(PFN_UUID2);
    // map=mem: the memmap is in System RAM and the data starts after 8K rounded up to the alignment
    expect(sb.mode).toBe(PFN_MODE_RAM);
    expect(sb.dataoff).toBe(2 * MiB);
    expect(attr(k, seed, 'size')).toBe(String(SIZE - 2 * MiB));
    expect(k.memremap.altmapPagesInUse).toBe(0);
    expect(k.memremap.vmemmapRamBytes).toBe(2 * 2 * MiB);
  });

  it('fails the bind with EINVAL when mode or align disagree with the block of the same uuid', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const { pfn } = await fsdax(s);
    const before = infoBlock(s, SPA0_BASE);
    await unbind(k, pfn);
    for (const [name, value] of [
      ['align', '4096'],
      ['mode', 'ram'],
    ] as const) {
      const saved = attr(k, pfn, name);
      await store(k, pfn, name, value);
      k.log.clear();
      // the probe fails with -EINVAL; the bind file reports what driver core turns that into
      expect(await errnoOf(bind(k, 'nd_pmem', pfn))).toBe('ENODEV');
      expect(driverOf(k, pfn)).toBeNull();
      const dmesg = k.dmesg().join('\n');
      expect(dmesg).toContain('pfn0.0: init failed, settings mismatch');
      expect(dmesg).toContain('nd_pmem: probe of pfn0.0 failed with error -22');
      expect(infoBlock(s, SPA0_BASE)).toEqual(before);
      await store(k, pfn, name, saved);
    }
    await bind(k, 'nd_pmem', pfn);
    expect(driverOf(k, pfn)).toBe('nd_pmem');
  });

  it('refuses to write an info block on a read-only region', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const ns = await createNamespace(k, 'region0', SIZE, NS_UUID);
    await store(k, 'region0', 'read_only', '1');
    k.log.clear();
    expect(await errnoOf(enableFsdax(k, 'region0', ns, { uuid: PFN_UUID }))).toBe('ENODEV');
    expect(k.dmesg().join('\n')).toContain('pfn0.0: region0 is read-only, unable to init metadata');
    expect(infoBlock(s, SPA0_BASE)).toEqual(new Uint8Array(PFN_SB_SIZE));
    expect(k.iomem.procIomem()).not.toContain('namespace0.0');
  });

  it('pfn attributes refuse changes while bound and bad values always', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const seed = 'pfn0.0';
    for (const bad of ['0', '1024', '3000', String(2 * 1024 * MiB), 'x'])
      expect(await errnoOf(store(k, seed, 'align', bad))).toBe('EINVAL');
    expect(await errnoOf(store(k, seed, 'mode', 'dev'))).toBe('EINVAL');
    expect(await errnoOf(store(k, seed, 'uuid', 'nope'))).toBe('EINVAL');
    expect(attr(k, seed, 'align')).toBe(String(2 * MiB));
    expect(attr(k, seed, 'mode')).toBe('none');
    const { pfn } = await fsdax(s);
    expect(await errnoOf(store(k, pfn, 'align', '4096'))).toBe('EBUSY');
    expect(await errnoOf(store(k, pfn, 'mode', 'ram'))).toBe('EBUSY');
    expect(await errnoOf(store(k, pfn, 'uuid', PFN_UUID2))).toBe('EBUSY');
    expect(await errnoOf(store(k, pfn, 'namespace', ''))).toBe('EBUSY');
  });
});

describe('map=dev and the size of the altmap', () => {
  it('fails with ENOMEM when the namespace is too small to hold a 2 MiB memmap block', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const ns = await createNamespace(k, 'region1', 64 * MiB, NS_UUID);
    k.log.clear();
    expect(await errnoOf(enableFsdax(k, 'region1', ns, { uuid: PFN_UUID }))).toBe('ENODEV');
    // vmemmap_populate() has no fallback to RAM once an altmap is given
    s.expectedWarnings = 1;
    expect(k.log.warnings).toBe(1);
    const dmesg = k.dmesg().join('\n');
    expect(dmesg).toContain('WARNING: at arch/x86/mm/init_64.c:arch_add_memory');
    expect(dmesg).toContain('nd_pmem: probe of pfn1.0 failed with error -12');
    // the info block stays (it was valid), nothing else does
    const sb = decodePfnSb(infoBlock(s, SPA1_BASE));
    expect(sb.dataoff).toBe(2 * MiB);
    expect(k.memremap.pgmapCount).toBe(0);
    expect(k.memremap.altmapPagesInUse).toBe(0);
    expect(k.sysfs.exists('/sys/block/pmem1')).toBe(false);
    expect(k.iomem.procIomem()).not.toContain('namespace1.0');
    // the same namespace is fine with its memmap in RAM
    const pfn = 'pfn1.0';
    await store(k, pfn, 'uuid', PFN_UUID2);
    await store(k, pfn, 'mode', 'ram');
    await bind(k, 'nd_pmem', pfn);
    expect(driverOf(k, pfn)).toBe('nd_pmem');
    expect(k.memremap.vmemmapRamBytes).toBe(2 * MiB);
  });

  it('fits a 128 MiB namespace at a section boundary exactly', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const ns = await createNamespace(k, 'region1', 128 * MiB, NS_UUID);
    const pfn = await enableFsdax(k, 'region1', ns, { uuid: PFN_UUID });
    expect(driverOf(k, pfn)).toBe('nd_pmem');
    expect(attr(k, pfn, 'size')).toBe(String(124 * MiB));
    expect(k.memremap.altmapPagesInUse).toBe(512);
  });
});
