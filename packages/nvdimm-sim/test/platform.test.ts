/** The test platform itself: its firmware's rules and a leak check that does catch leaks. */
import { Kernel } from '@daxsim/kernel';
import { describe, expect, it } from 'vitest';
import { bootNd, CLEAR_ERR_UNIT, errnoOf, SPA0_BASE, TestFirmware, TestNvdimms } from './platform.js';

describe('TestFirmware', () => {
  it('reports injected errors clipped to the scrubbed range, busy once when asked', async () => {
    const nv = new TestNvdimms();
    const fw = new TestFirmware(nv, new Kernel(), { arsBusyOnce: true });
    fw.injectError(SPA0_BASE - 512, 1024);
    fw.arsStart(SPA0_BASE, 4096);
    expect(await errnoOf(() => fw.arsStart(SPA0_BASE, 4096))).toBe('EBUSY');
    expect(fw.arsStatus()).toMatchObject({ busy: true, records: [] });
    expect(fw.arsStatus()).toEqual({
      busy: false,
      address: SPA0_BASE,
      length: 4096,
      records: [{ handle: 0, address: SPA0_BASE, length: 512 }],
    });
  });

  it('clears errors in 256-byte units only', async () => {
    const nv = new TestNvdimms();
    const k = new Kernel();
    const fw = new TestFirmware(nv, k);
    fw.injectError(SPA0_BASE, 1024);
    expect(fw.arsCap(SPA0_BASE, 4096).clearErrUnit).toBe(CLEAR_ERR_UNIT);
    for (const [addr, len] of [
      [SPA0_BASE + 128, 256],
      [SPA0_BASE, 100],
      [SPA0_BASE, 0],
    ] as const)
      expect(await errnoOf(() => fw.clearError(addr, len))).toBe('EINVAL');
    expect(fw.clearError(SPA0_BASE + 256, 256)).toBe(256);
    expect(nv.errors).toEqual([
      { address: SPA0_BASE, length: 256 },
      { address: SPA0_BASE + 512, length: 512 },
    ]);
    expect(k.physmem.poisonRanges()).toEqual([
      { start: SPA0_BASE, end: SPA0_BASE + 256 },
      { start: SPA0_BASE + 512, end: SPA0_BASE + 1024 },
    ]);
  });

  it('has no label commands for the label-less DIMM', async () => {
    const fw = new TestFirmware(new TestNvdimms(), new Kernel());
    expect(fw.getConfigSize(0).configSize).toBe(128 * 1024);
    expect(await errnoOf(() => fw.getConfigSize(0x100))).toBe('ENOTTY');
  });
});

describe('bootNd', () => {
  it('fails its dispose on a leaked resource or an unexpected WARN', async () => {
    const s = await bootNd();
    s.kernel.iomem.requestMemRegion(0x1000, 0x1000, 'leak');
    await expect(s[Symbol.asyncDispose]()).rejects.toThrow(/leak check: iomem resources 0 -> 1/);
    const t = await bootNd();
    t.kernel.log.warn(true, 'test', 'provoked');
    await expect(t[Symbol.asyncDispose]()).rejects.toThrow(/warnings 0 -> 1/);
  });
});
