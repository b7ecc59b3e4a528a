/**
 * claim.c: a pfn or dax device claiming a namespace through its `namespace` attribute, the errnos of
 * nd_namespace_store(), the namespace's `holder` and `mode`, and nvdimm_namespace_common_probe() refusing a
 * namespace some claim device owns.
 */
import { describe, expect, it } from 'vitest';
import { attr, bind, bootNd, createNamespace, driverOf, errnoOf, MiB, store, unbind } from './platform.js';

const NS_UUID = '9a8b7c6d-5e4f-4031-9293-a4b5c6d7e8f9';
const NS2_UUID = '1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b';
const PFN_UUID = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3';

describe('namespace_store', () => {
  it('claims a namespace of its own region, and shows it as holder and mode', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const ns = await createNamespace(k, 'region0', 32 * MiB, NS_UUID);
    expect(attr(k, ns, 'holder')).toBe('');
    expect(attr(k, ns, 'mode')).toBe('raw');
    await store(k, 'pfn0.0', 'namespace', ns);
    expect(attr(k, 'pfn0.0', 'namespace')).toBe(ns);
    expect(attr(k, ns, 'holder')).toBe('pfn0.0');
    expect(attr(k, ns, 'mode')).toBe('memory');
    // while this claim stands any name is EBUSY, the same one included ("namespace already set")
    expect(await errnoOf(store(k, 'pfn0.0', 'namespace', ns))).toBe('EBUSY');
    expect(await errnoOf(store(k, 'pfn0.0', 'namespace', 'namespace0.1'))).toBe('EBUSY');
    await store(k, 'pfn0.0', 'uuid', PFN_UUID);
    await store(k, 'pfn0.0', 'mode', 'pmem');
    await store(k, 'pfn0.0', 'align', '4096');
    // releasing the seed's claim resets its uuid and mode; the seed stays
    await store(k, 'pfn0.0', 'namespace', '');
    await k.async.synchronizeFull();
    expect(attr(k, ns, 'holder')).toBe('');
    expect(attr(k, ns, 'mode')).toBe('raw');
    expect(attr(k, 'pfn0.0', 'uuid')).toBe('');
    expect(attr(k, 'pfn0.0', 'mode')).toBe('none');
    expect(attr(k, 'pfn0.0', 'align')).toBe('4096');
    await store(k, 'dax0.0', 'namespace', ns);
    expect(attr(k, ns, 'holder')).toBe('dax0.0');
    expect(attr(k, ns, 'mode')).toBe('dax');
  });

  it('is EINVAL for a name that is not a namespace and ENODEV for one not in the region', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    for (const name of ['region0', 'pfn0.0', 'nmem0', ' x'])
      expect(await errnoOf(store(k, 'pfn0.0', 'namespace', name))).toBe('EINVAL');
    for (const name of ['namespace0.9', 'namespace1.0', 'namespace'])
      expect(await errnoOf(store(k, 'pfn0.0', 'namespace', name))).toBe('ENODEV');
    expect(attr(k, 'pfn0.0', 'namespace')).toBe('');
  });

  it('unregisters a claim device that is neither a seed nor bound when its claim is released', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const ns = await createNamespace(k, 'region0', 256 * MiB, NS_UUID);
    await store(k, 'pfn0.0', 'uuid', PFN_UUID);
    await store(k, 'pfn0.0', 'mode', 'pmem');
    await store(k, 'pfn0.0', 'namespace', ns);
    await bind(k, 'nd_pmem', 'pfn0.0');
    expect(attr(k, 'region0', 'pfn_seed')).toBe('pfn0.1');
    await unbind(k, 'pfn0.0');
    expect(attr(k, ns, 'holder')).toBe('pfn0.0');
    await store(k, 'pfn0.0', 'namespace', '');
    await k.async.synchronizeFull();
    expect(k.sysfs.exists('/sys/bus/nd/devices/pfn0.0')).toBe(false);
    expect(attr(k, ns, 'holder')).toBe('');
    // with the info block still on the media, a raw probe of the namespace hands it to a new pfn device
    expect(await errnoOf(bind(k, 'nd_pmem', ns))).toBe('ENODEV');
    expect(driverOf(k, ns)).toBeNull();
    expect(attr(k, ns, 'holder')).toBe('pfn0.0');
    expect(driverOf(k, 'pfn0.0')).toBe('nd_pmem');
    expect(attr(k, 'pfn0.0', 'uuid')).toBe(PFN_UUID);
  });

  it('is ENXIO for a namespace under 16 MiB', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    expect(await errnoOf(store(k, 'pfn0.0', 'namespace', 'namespace0.0'))).toBe('ENXIO');
    const ns = await createNamespace(k, 'region0', 16 * MiB - 8192, NS_UUID);
    expect(await errnoOf(store(k, 'pfn0.0', 'namespace', ns))).toBe('ENXIO');
    await store(k, ns, 'size', String(16 * MiB));
    await store(k, 'pfn0.0', 'namespace', ns);
    expect(attr(k, ns, 'holder')).toBe('pfn0.0');
  });

  it('is EBUSY for a namespace another device claims', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const ns = await createNamespace(k, 'region0', 32 * MiB, NS_UUID);
    await store(k, 'pfn0.0', 'namespace', ns);
    expect(await errnoOf(store(k, 'dax0.0', 'namespace', ns))).toBe('EBUSY');
    expect(attr(k, 'dax0.0', 'namespace')).toBe('');
    expect(attr(k, ns, 'holder')).toBe('pfn0.0');
  });

  it('lets a bound namespace be claimed, but the claim device cannot bind over it (EBUSY in probe)', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    // the namespace_io namespace is bound to nd_pmem from boot
    expect(driverOf(k, 'namespace2.0')).toBe('nd_pmem');
    await store(k, 'pfn2.0', 'namespace', 'namespace2.0');
    expect(attr(k, 'namespace2.0', 'holder')).toBe('pfn2.0');
    await store(k, 'pfn2.0', 'uuid', PFN_UUID);
    await store(k, 'pfn2.0', 'mode', 'pmem');
    k.log.clear();
    expect(await errnoOf(bind(k, 'nd_pmem', 'pfn2.0'))).toBe('ENODEV');
    expect(k.dmesg().join('\n')).toContain('nd_pmem: probe of pfn2.0 failed with error -16');
    expect(driverOf(k, 'namespace2.0')).toBe('nd_pmem');
    expect(k.sysfs.exists('/sys/block/pmem2')).toBe(true);
    await store(k, 'pfn2.0', 'namespace', '');
    expect(attr(k, 'namespace2.0', 'holder')).toBe('');
  });

  it('keeps a claimed namespace from binding or changing, until the claim is released', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const ns = await createNamespace(k, 'region0', 32 * MiB, NS_UUID);
    await store(k, 'pfn0.0', 'namespace', ns);
    k.log.clear();
    // nvdimm_namespace_common_probe(): claimed -> ENXIO, which bind reports as ENODEV
    expect(await errnoOf(bind(k, 'nd_pmem', ns))).toBe('ENODEV');
    expect(driverOf(k, ns)).toBeNull();
    expect(await errnoOf(store(k, ns, 'size', String(64 * MiB)))).toBe('EBUSY');
    expect(await errnoOf(store(k, ns, 'uuid', NS2_UUID))).toBe('EBUSY');
    expect(await errnoOf(store(k, ns, 'alt_name', 'x'))).toBe('EBUSY');
    await store(k, 'pfn0.0', 'namespace', '');
    await bind(k, 'nd_pmem', ns);
    expect(driverOf(k, ns)).toBe('nd_pmem');
  });

  it('keeps the claim while the pfn device is bound, and binding needs a namespace', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    await store(k, 'pfn0.0', 'uuid', PFN_UUID);
    await store(k, 'pfn0.0', 'mode', 'pmem');
    expect(await errnoOf(bind(k, 'nd_pmem', 'pfn0.0'))).toBe('ENODEV');
    const ns = await createNamespace(k, 'region0', 256 * MiB, NS_UUID);
    await store(k, 'pfn0.0', 'namespace', ns);
    await bind(k, 'nd_pmem', 'pfn0.0');
    expect(driverOf(k, 'pfn0.0')).toBe('nd_pmem');
    expect(await errnoOf(store(k, 'pfn0.0', 'namespace', ''))).toBe('EBUSY');
    expect(await errnoOf(bind(k, 'nd_pmem', ns))).toBe('ENODEV');
    // the claim device of a bound pfn is not the seed any more
    expect(attr(k, 'region0', 'pfn_seed')).toBe('pfn0.1');
    expect(attr(k, 'region0', 'namespace_seed')).toBe('namespace0.1');
    expect(await errnoOf(store(k, 'pfn0.1', 'namespace', ns))).toBe('EBUSY');
  });
});
