/**
 * ndctl test/daxdev-errors.sh and daxdev-errors.c: a media error injected under a 4K-aligned device-dax is
 * found by address range scrub (region badblocks), a load from it through a mapping is a machine check (SIGBUS,
 * BUS_MCEERR_AR), clear-error over the range through the bus command clears it, and badblocks end up empty.
 */
import { BUS_MCEERR_AR, MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import { expect, it } from 'vitest';
import { createNamespace, daxChardevs, read, regions } from './libndctl.js';
import { bootNfitTest, KiB, MiB } from './nd_fixture.js';

it('inject, scrub, SIGBUS on access, clear-error, badblocks empty', async () => {
  await using s = await bootNfitTest();
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')[0]!;
  const ns = await createNamespace(k, region, { mode: 'devdax', align: 4 * KiB, size: 16 * MiB });
  const dax = read(k, ns, 'holder');
  const [chardev] = daxChardevs(k, dax);
  const dataStart = Number(read(k, dax, 'resource'));
  const regionStart = Number(read(k, region, 'resource'));
  const bad = dataStart + 8 * KiB;

  const inst = s.nfitTest.instance('nfit_test.0');
  inst.firmware.injectError(bad, 512);
  expect(read(k, region, 'badblocks')).toBe('');
  const busDir = k.sysfs.realpath(`/sys/bus/nd/devices/${region}/..`);
  await k.sysfs.write(`${busDir}/nfit/scrub`, '1\n');
  expect(k.sysfs.read(`${busDir}/nfit/scrub`).trim()).toBe('2');
  expect(read(k, region, 'badblocks')).toBe(`${(bad - regionStart) / 512} 1`);

  const t = k.spawn('daxdev-errors');
  const fd = t.open(`/dev/${chardev}`, O_RDWR);
  const addr = t.mmap(0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  expect(t.load(addr, 16)).toEqual(new Uint8Array(16));
  expect(() => t.load(addr + 8 * KiB, 8)).toThrow(
    expect.objectContaining({ signal: 'SIGBUS', si_code: BUS_MCEERR_AR, addr: addr + 8 * KiB }),
  );

  const bus = inst.desc.bus;
  const cap = s.nd.ndIoctl(bus, null, { cmd: 'ars_cap', address: bad, length: 512 }) as {
    clearErrUnit: number;
  };
  expect(cap.clearErrUnit).toBe(256);
  const cleared = s.nd.ndIoctl(bus, null, { cmd: 'clear_error', address: bad, length: 512 });
  expect(cleared).toBe(512);
  expect(t.load(addr + 8 * KiB, 8)).toEqual(new Uint8Array(8));
  expect(read(k, region, 'badblocks')).toBe('');
  await k.sysfs.write(`${busDir}/nfit/scrub`, '1\n');
  expect(read(k, region, 'badblocks')).toBe('');
});
