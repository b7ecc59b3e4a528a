/** ndctl test/multi-dax.sh: two 16 MiB devdax namespaces in one region of nfit_test.0. */
import { MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import { expect, it } from 'vitest';
import { createNamespace, daxChardevs, driverOf, read, regions } from './libndctl.js';
import { bootNfitTest, MiB } from './nd_fixture.js';

it('creates two devdax namespaces of 16 MiB in the region with the most space, each with its own device', async () => {
  await using s = await bootNfitTest();
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')
    .map((r) => ({ r, avail: Number(read(k, r, 'available_size')) }))
    .sort((a, b) => b.avail - a.avail)[0]!.r;
  const before = Number(read(k, region, 'available_size'));
  const ns1 = await createNamespace(k, region, { mode: 'devdax', align: 2 * MiB, size: 16 * MiB });
  const ns2 = await createNamespace(k, region, { mode: 'devdax', align: 2 * MiB, size: 16 * MiB });
  expect(ns1).not.toBe(ns2);
  expect(Number(read(k, region, 'available_size'))).toBe(before - 32 * MiB);
  const d1 = read(k, ns1, 'holder');
  const d2 = read(k, ns2, 'holder');
  expect(driverOf(k, d1)).toBe('dax_pmem');
  expect(driverOf(k, d2)).toBe('dax_pmem');
  const [c1] = daxChardevs(k, d1);
  const [c2] = daxChardevs(k, d2);
  const id = region.slice('region'.length);
  expect([c1, c2]).toEqual([`dax${id}.${ns1.split('.')[1]}`, `dax${id}.${ns2.split('.')[1]}`]);
  // each device is 16 MiB less the 2 MiB info/memmap reservation, and they do not share media
  expect(Number(k.sysfs.read(`/sys/class/dax/${c1}/size`))).toBe(14 * MiB);
  const t = k.spawn('multi-dax');
  const a = t.mmap(0, 14 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, t.open(`/dev/${c1}`, O_RDWR), 0);
  const b = t.mmap(0, 14 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, t.open(`/dev/${c2}`, O_RDWR), 0);
  t.store(a, new Uint8Array([1, 2, 3]));
  t.store(b, new Uint8Array([9, 9, 9]));
  expect(t.load(a, 3)).toEqual(new Uint8Array([1, 2, 3]));
  expect(t.load(b, 3)).toEqual(new Uint8Array([9, 9, 9]));
});
