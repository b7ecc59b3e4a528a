import { describe, expect, it } from 'vitest';
import { Device } from '../src/drivers/base/core.js';
import { Kernel } from '../src/kernel.js';
import { Ida } from '../src/lib/idr.js';
import { MEMREMAP_WB } from '../src/mm/memremap.js';
import { loadToy } from './toy_chrdev.js';

const GiB = 2 ** 30;

describe('kmemleak: live-object counts against a baseline', () => {
  it('a fresh kernel compares clean with itself, and every count starts from a number', () => {
    const kernel = new Kernel();
    const baseline = kernel.kmemleak.baseline();
    expect(baseline.diff()).toEqual([]);
    expect(() => baseline.assertClean()).not.toThrow();
    for (const what of ['devices', 'sysfs nodes', 'iomem resources', 'module refs', 'open files', 'inodes'])
      expect(typeof baseline.before[what]).toBe('number');
  });

  it('tracks the ids of every IDA handed the tracker, by IDA name, until they are removed or destroyed', () => {
    const kernel = new Kernel();
    const baseline = kernel.kmemleak.baseline();
    const ida = new Ida(kernel.log, 'test_ida', null, kernel.kmemleak);
    const a = ida.simpleGet();
    ida.simpleGet();
    expect(baseline.diff()).toEqual([{ what: 'ids test_ida', before: 0, after: 2 }]);
    ida.simpleRemove(a);
    expect(baseline.diff()).toEqual([{ what: 'ids test_ida', before: 0, after: 1 }]);
    ida.destroy();
    expect(baseline.diff()).toEqual([]);
  });

  it('names a registered device, its sysfs nodes and its extra reference, and is clean once they go', async () => {
    const kernel = new Kernel();
    const core = kernel.driverCore;
    const baseline = kernel.kmemleak.baseline();
    const dev = new Device({ name: 'leaky', release: () => {} });
    await core.deviceRegister(dev);
    core.getDevice(dev);
    const moved = baseline.diff().map((d) => d.what);
    expect(moved).toEqual(expect.arrayContaining(['devices', 'device refs', 'sysfs nodes']));
    expect(baseline.diff().find((d) => d.what === 'device refs')).toEqual({
      what: 'device refs',
      before: 0,
      after: 2,
    });
    expect(() => baseline.assertClean()).toThrow(/leak check: .*devices 0 -> 1/);
    core.putDevice(dev);
    await core.deviceUnregister(dev);
    expect(baseline.diff()).toEqual([]);
  });

  it('sees iomem resources, memremap mappings, module references, tasks and open files', async () => {
    const kernel = new Kernel();
    const baseline = kernel.kmemleak.baseline();
    const toy = await loadToy(kernel);
    const afterLoad = kernel.kmemleak.baseline();
    const res = kernel.iomem.requestMemRegion(64 * GiB, 4096, 'leak');
    const kaddr = kernel.memremap.memremap(64 * GiB, 4096, MEMREMAP_WB);
    const t = kernel.spawn('holder');
    const fd = t.open('/dev/toy0');
    // chrdev_open pins the owner twice: cdev_get() for the cdev and fops_get() for the file's f_op
    expect(Object.fromEntries(afterLoad.diff().map((d) => [d.what, d.after - d.before]))).toEqual({
      'iomem resources': 1,
      memremaps: 1,
      'module refs': 2,
      tasks: 1,
      'open files': 1,
    });
    t.close(fd);
    t.exit();
    kernel.reapTask(t);
    kernel.memremap.memunmap(kaddr!);
    kernel.iomem.releaseMemRegion(res!.start, 4096);
    expect(afterLoad.diff()).toEqual([]);
    await kernel.modules.rmmod(toy.name);
    expect(baseline.diff()).toEqual([]);
  });

  it('counts WARNs as leaks unless the caller expected them, and skips ignored kinds', () => {
    const kernel = new Kernel();
    const baseline = kernel.kmemleak.baseline();
    kernel.log.warn(true, 'test', 'on purpose');
    expect(baseline.diff()).toEqual([{ what: 'warnings', before: 0, after: 1 }]);
    expect(baseline.diff({ expectedWarnings: 1 })).toEqual([]);
    expect(baseline.diff({ ignore: ['warnings'] })).toEqual([]);
    expect(() => baseline.assertClean()).toThrow(/warnings 0 -> 1[\s\S]*on purpose/);
  });
});
