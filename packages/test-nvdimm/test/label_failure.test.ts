/**
 * A label update the DIMM firmware fails (nfit_test's fail_cmd on ND_CMD_SET_CONFIG_DATA): the namespace store
 * that needed it fails with the firmware's EIO and the namespace keeps its size and uuid; once the command works
 * again the same store succeeds, and a reboot finds exactly the namespace that was committed.
 */

import { ND_CMD_SET_CONFIG_DATA } from '@daxsim/nvdimm-sim';
import { expect, it } from 'vitest';
import { NfitTestMedia } from '../src/nfit_test_module.js';
import { read, regions, write } from './libndctl.js';
import { bootNfitTest, MiB } from './nd_fixture.js';

const UUID = '5ad2b0a8-7f3e-4c8e-9d1a-1b2c3d4e5f60';

it('a failed label write fails the size store with EIO and changes nothing; the retry commits', async () => {
  const media = new NfitTestMedia();
  {
    await using s = await bootNfitTest({}, media);
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[0]!;
    const ns = read(k, region, 'namespace_seed');
    const available = read(k, region, 'available_size');
    await write(k, ns, 'uuid', UUID);
    const fw = s.nfitTest.instance('nfit_test.0').firmware;
    const second = s.nfitTest.instance('nfit_test.0').platform.spas[0]!.mappings[1]!.handle;
    fw.failCmd(second, ND_CMD_SET_CONFIG_DATA);
    await expect(write(k, ns, 'size', String(16 * MiB))).rejects.toMatchObject({ code: 'EIO' });
    expect(read(k, ns, 'size')).toBe('0');
    expect(read(k, ns, 'uuid')).toBe(UUID);
    expect(read(k, region, 'available_size')).toBe(available);
    fw.failCmd(second, ND_CMD_SET_CONFIG_DATA, false);
    await write(k, ns, 'size', String(16 * MiB));
    expect(read(k, ns, 'size')).toBe(String(16 * MiB));
    expect(Number(read(k, region, 'available_size'))).toBe(Number(available) - 16 * MiB);
  }
  await using s = await bootNfitTest({}, media);
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')[0]!;
  const found = k.sysfs
    .readdir(`/sys/bus/nd/devices/${region}`)
    .filter((d) => /^namespace\d+\.\d+$/.test(d) && read(k, d, 'size') !== '0');
  expect(found.map((d) => [read(k, d, 'uuid'), read(k, d, 'size')])).toEqual([[UUID, String(16 * MiB)]]);
});
