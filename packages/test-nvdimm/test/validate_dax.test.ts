/**
 * libndctl's validate_dax/check_dax_create: the nd and dax views of a devdax namespace agree (region id, size,
 * align), the dax seed advances after an enable, and enabling on a read-only region fails.
 */
import { expect, it } from 'vitest';
import { bind, createNamespace, daxChardevs, driverOf, read, regions, write } from './libndctl.js';
import { bootNfitTest, KiB, MiB } from './nd_fixture.js';

it.each([
  ['4K', 4 * KiB],
  ['2M', 2 * MiB],
])('nd and dax views agree at %s; the dax seed advances', async (_l, align) => {
  await using s = await bootNfitTest();
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')[0]!;
  const seed = read(k, region, 'dax_seed');
  const ns = await createNamespace(k, region, { mode: 'devdax', align });
  const dax = read(k, ns, 'holder');
  expect(dax).toBe(seed);
  expect(read(k, region, 'dax_seed')).not.toBe(seed);
  expect(read(k, read(k, region, 'dax_seed'), 'namespace')).toBe('');
  const daxRegion = `/sys/bus/nd/devices/${dax}/dax_region`;
  expect(k.sysfs.read(`${daxRegion}/id`).trim()).toBe(region.slice('region'.length));
  expect(k.sysfs.read(`${daxRegion}/align`).trim()).toBe(String(align));
  expect(k.sysfs.read(`${daxRegion}/size`).trim()).toBe(read(k, dax, 'size'));
  const [chardev] = daxChardevs(k, dax);
  expect(k.sysfs.read(`/sys/class/dax/${chardev}/size`).trim()).toBe(read(k, dax, 'size'));
  // resource + size: the data range starts at the info block's dataoff
  const nsStart = Number(read(k, ns, 'resource'));
  expect(Number(read(k, dax, 'resource')) - nsStart + Number(read(k, dax, 'size'))).toBe(
    Number(read(k, ns, 'size')),
  );
});

it('refuses to enable a dax device on a read-only region (ENXIO at info-block init)', async () => {
  await using s = await bootNfitTest();
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')[0]!;
  const ns = read(k, region, 'namespace_seed');
  await write(k, ns, 'uuid', 'd4f4a2bd-5a83-4c67-8c4b-3f0c3f1e6a01');
  await write(k, ns, 'size', String(16 * MiB));
  await write(k, region, 'read_only', '1');
  const dax = read(k, region, 'dax_seed');
  await write(k, dax, 'uuid', '1f0e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
  await write(k, dax, 'mode', 'pmem');
  await write(k, dax, 'namespace', ns);
  await expect(bind(k, 'dax_pmem', dax)).rejects.toMatchObject({ code: 'ENODEV' });
  expect(driverOf(k, dax)).toBeNull();
  expect(k.dmesg().some((l) => l.includes(`${region} is read-only, unable to init metadata`))).toBe(true);
  expect(read(k, region, 'dax_seed')).toBe(dax);
  await write(k, region, 'read_only', '0');
  await bind(k, 'dax_pmem', dax);
  expect(driverOf(k, dax)).toBe('dax_pmem');
});

it('rejects bad claim-device stores with the kernel errnos and changes nothing', async () => {
  await using s = await bootNfitTest();
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')[0]!;
  const dax = read(k, region, 'dax_seed');
  for (const bad of ['3', '8192000', String(2 * 1024 * MiB), 'abc'])
    await expect(write(k, dax, 'align', bad)).rejects.toMatchObject({ code: 'EINVAL' });
  expect(read(k, dax, 'align')).toBe(String(2 * MiB));
  await expect(write(k, dax, 'namespace', 'namespace9.9')).rejects.toMatchObject({ code: 'ENODEV' });
  expect(() => read(k, dax, 'resource')).toThrow(expect.objectContaining({ code: 'ENXIO' }));
  expect(() => read(k, dax, 'size')).toThrow(expect.objectContaining({ code: 'ENXIO' }));
  const ns = await createNamespace(k, region, { mode: 'devdax', align: 4 * KiB, size: 16 * MiB });
  const bound = read(k, ns, 'holder');
  await expect(write(k, bound, 'align', String(2 * MiB))).rejects.toMatchObject({ code: 'EBUSY' });
  // __align_store checks the value before the binding
  await expect(write(k, bound, 'align', '3')).rejects.toMatchObject({ code: 'EINVAL' });
  await expect(write(k, ns, 'size', '0')).rejects.toMatchObject({ code: 'EBUSY' });
  await expect(write(k, read(k, region, 'namespace_seed'), 'size', String(4 * MiB))).rejects.toMatchObject({
    code: 'ENXIO',
  });
});
