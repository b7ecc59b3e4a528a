/**
 * The non-volatile parts nfit_test keeps in NfitTestMedia across a reboot: injected media errors (poison
 * survives power loss on real media) as well as labels and data; and the platforms nfit_test registers at load.
 */
import { BUS_MCEERR_AR, Kernel, MAP_SHARED, O_RDWR, PROT_READ } from '@daxsim/kernel';
import { expect, it } from 'vitest';
import { sparsePlatform } from '../src/nfit.js';
import { makeNfitTestModule, NfitTestMedia } from '../src/nfit_test_module.js';
import { loadNfitTestStack, unloadNfitTestStack } from '../src/stack.js';
import { createNamespace, daxChardevs, read, regions } from './libndctl.js';
import { bootNfitTest, KiB, MiB } from './nd_fixture.js';

it('an injected error survives a reboot: the boot scrub finds it and a load still machine-checks', async () => {
  const media = new NfitTestMedia();
  let bad = 0;
  let ns = '';
  {
    await using s = await bootNfitTest({}, media);
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[0]!;
    ns = await createNamespace(k, region, { mode: 'devdax', align: 4 * KiB, size: 16 * MiB });
    bad = Number(read(k, read(k, ns, 'holder'), 'resource')) + 16 * KiB;
    s.nfitTest.instance('nfit_test.0').firmware.injectError(bad, 512);
  }
  expect(media.errors.get('nfit_test.0')).toEqual([{ address: bad, length: 512 }]);
  expect(media.errors.get('nfit_test.1')).toBeUndefined();

  await using s = await bootNfitTest({}, media);
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')[0]!;
  const regionStart = Number(read(k, region, 'resource'));
  expect(read(k, region, 'badblocks')).toBe(`${(bad - regionStart) / 512} 1`);
  const [chardev] = daxChardevs(k, read(k, ns, 'holder'));
  const t = k.spawn('reader');
  const fd = t.open(`/dev/${chardev}`, O_RDWR);
  const dataStart = Number(read(k, read(k, ns, 'holder'), 'resource'));
  const addr = t.mmap(0, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
  expect(() => t.load(addr + (bad - dataStart), 8)).toThrow(
    expect.objectContaining({ signal: 'SIGBUS', si_code: BUS_MCEERR_AR }),
  );
  s.nfitTest.instance('nfit_test.0').firmware.clearError(bad, 512);
  expect(media.errors.get('nfit_test.0')).toEqual([]);
});

it('nfit_test registers the platforms it is given instead of nfit_test.0 and .1', async () => {
  const k = new Kernel();
  const platform = sparsePlatform({ size: 256 * MiB });
  const stack = await loadNfitTestStack(k, { platforms: [{ name: 'nfit_test.7', platform }] });
  try {
    expect(stack.nfitTest.instances.map((i) => i.name)).toEqual(['nfit_test.7']);
    const providers = k.sysfs
      .readdir('/sys/bus/nd/devices')
      .filter((d) => d.startsWith('ndbus'))
      .map((b) => k.sysfs.read(`/sys/bus/nd/devices/${b}/provider`).trim());
    expect(providers).toEqual([platform.providerName]);
    expect(makeNfitTestModule().name).toBe('nfit_test');
  } finally {
    await unloadNfitTestStack(k);
  }
  expect(k.modules.list()).toEqual([]);
  expect(k.iomem.count).toBe(new Kernel().iomem.count);
});
