/** devres_release() and the devm_*_release/unmap functions built on it: one resource goes now, the rest stay. */
import { describe, expect, it } from 'vitest';
import { Device } from '../src/drivers/base/core.js';
import { MEMREMAP_WB } from '../src/index.js';
import { Kernel } from '../src/kernel.js';

const MiB = 1024 * 1024;
const BASE = 64 * 1024 * MiB;

async function withDevice() {
  const kernel = new Kernel();
  const dev = new Device({ name: 'devres_test', release: () => {} });
  await kernel.driverCore.deviceRegister(dev);
  return { kernel, dev, core: kernel.driverCore };
}

describe('devm releases before the device goes', () => {
  it('devm_release_mem_region releases exactly the named request and its devres', async () => {
    const { kernel, dev } = await withDevice();
    const iomem = kernel.iomem;
    const base = iomem.count;
    expect(iomem.devmRequestMemRegion(dev, BASE, MiB, 'a')).not.toBeNull();
    expect(iomem.devmRequestMemRegion(dev, BASE + MiB, MiB, 'b')).not.toBeNull();
    expect(dev.p.devres).toHaveLength(2);
    await iomem.devmReleaseMemRegion(dev, BASE, MiB);
    expect(iomem.count).toBe(base + 1);
    expect(dev.p.devres).toHaveLength(1);
    expect(iomem.procIomem()).toContain(' : b');
    expect(iomem.requestMemRegion(BASE, MiB, 'again')).not.toBeNull();
    expect(kernel.log.warnings).toBe(0);
    await iomem.devmReleaseMemRegion(dev, BASE, MiB);
    expect(kernel.log.warnings).toBe(1);
    expect(dev.p.devres).toHaveLength(1);
  });

  it('devm_memunmap ends the one mapping and leaves the others', async () => {
    const { kernel, dev, core } = await withDevice();
    const mr = kernel.memremap;
    const a = mr.devmMemremap(core, dev, BASE, MiB, MEMREMAP_WB);
    mr.devmMemremap(core, dev, BASE + MiB, MiB, MEMREMAP_WB);
    expect(mr.count).toBe(2);
    await mr.devmMemunmap(core, dev, a);
    expect(mr.count).toBe(1);
    expect(() => mr.virtToPhys(a)).toThrow(expect.objectContaining({ code: 'EFAULT' }));
    expect(dev.p.devres).toHaveLength(1);
    await mr.devmMemunmap(core, dev, a);
    expect(kernel.log.warnings).toBe(1);
    await core.deviceUnregister(dev);
    expect(mr.count).toBe(0);
  });
});
