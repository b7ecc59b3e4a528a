import { Kernel } from '@daxsim/kernel';
import { expect, it } from 'vitest';
import { createNfitTest, MemoryLabelStore, nfitTestDefaultBase } from '../src/index.js';
import { errno, GiB, KiB } from './helpers.js';

it('nfit_test.0 seeds each label area with "label<i>"', () => {
  using t = createNfitTest(new Kernel(), { instance: 0 });
  const text = (h: number) => new TextDecoder().decode(t.firmware.getConfigData(h, 0, 7));
  expect([0, 1, 0x100, 0x101].map(text)).toEqual(['label0\0', 'label1\0', 'label2\0', 'label3\0']);
  expect(t.firmware.getConfigData(0x101, 7, 4)).toEqual(new Uint8Array(4));
});

it('nfit_test.1 has no label storage', () => {
  using t = createNfitTest(new Kernel(), { instance: 1 });
  expect(t.platform.providerName).toBe('nfit_test.1');
  expect(() => t.firmware.getConfigSize(0)).toThrow(errno('ENOTTY'));
});

it('takes a base, label stores and firmware options', () => {
  const calls: string[] = [];
  const store = new MemoryLabelStore(128 * KiB);
  using t = createNfitTest(new Kernel(), {
    instance: 0,
    base: 8 * GiB,
    labels: new Map([[0, store]]),
    arsBusyPolls: 0,
    poison: { poison: (a, l) => calls.push(`poison ${a} ${l}`) },
  });
  expect(t.platform.spas.map((s) => s.base)).toEqual([8 * GiB, 9 * GiB]);
  expect(t.firmware.labelStore(0)).toBe(store);
  expect(t.firmware.getConfigData(1, 0, 6)).toEqual(new Uint8Array(6));
  expect(t.firmware.arsStatus().busy).toBe(false);
  t.firmware.injectError(8 * GiB, 512);
  expect(calls).toEqual([`poison ${8 * GiB} 512`]);
});

it('refuses a misaligned base, leaving the kernel untouched', () => {
  const kernel = new Kernel();
  expect(() => createNfitTest(kernel, { instance: 0, base: nfitTestDefaultBase(0) + 1 })).toThrow(
    errno('EINVAL'),
  );
  expect(kernel.resourceRedirect).toBeNull();
});
