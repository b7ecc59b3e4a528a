/** A 1 TiB devdax namespace on a sparse platform probes, maps and faults without allocating its media. */
import { MAP_SHARED, O_RDWR, PROT_READ } from '@daxsim/kernel';
import { expect, it } from 'vitest';
import { sparsePlatform } from '../src/nfit.js';
import { createNamespace, daxChardevs, read, regions } from './libndctl.js';
import { bootNfitTest, GiB } from './nd_fixture.js';

const TiB = 1024 * GiB;

it('probes a 1 TiB devdax namespace with 1 GiB alignment without touching its media', async () => {
  await using s = await bootNfitTest();
  const k = s.kernel;
  await s.nfitTest.addPlatform(
    'nfit_test.2',
    sparsePlatform({ size: TiB, base: 4 * TiB, providerName: 'nfit_test.2' }),
  );
  const [region] = regions(k, 'nfit_test.2');
  const before = k.physmem.allocatedBytes;
  const ns = await createNamespace(k, region!, { mode: 'devdax', align: GiB });
  expect(Number(read(k, ns, 'size'))).toBe(TiB);
  const dax = read(k, ns, 'holder');
  // map=dev: 64 bytes of memmap per 4K page (16 GiB) plus the 128K dax reserve, rounded up to the 1G alignment
  expect(Number(read(k, dax, 'size'))).toBe(TiB - 17 * GiB);
  const [chardev] = daxChardevs(k, dax);
  const t = k.spawn('sparse');
  const addr = t.mmap(0, 4 * GiB, PROT_READ, MAP_SHARED, t.open(`/dev/${chardev}`, O_RDWR), 0);
  expect(t.load(addr + 3 * GiB + 12345, 4)).toEqual(new Uint8Array(4));
  expect(k.faultEvents.snapshot().pud.nopage).toBe(1);
  // only the info block's 64 KiB chunk was written
  expect(k.physmem.allocatedBytes - before).toBeLessThanOrEqual(64 * 1024);
});
