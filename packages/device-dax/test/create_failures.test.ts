import { MEMREMAP_WB, PFN_DEV, PFN_MAP } from '@daxsim/kernel';
import { expect, it } from 'vitest';
import { bootDevDax, MiB } from './fixtures.js';

const BASE = 2 ** 36;

/**
 * Fails the Nth fail-point call on the region + device create path, for every N the path reaches: each run
 * must end in a clean error (null region or a rejected create) and, at dispose, in a clean leak check.
 */
it('every failure injected on alloc_dax_region + devm_create_dax_dev unwinds completely', async () => {
  const reached: string[] = [];
  for (let nth = 1; ; nth++) {
    await using f = await bootDevDax();
    const { kernel, devdax, parent } = f;
    const res = f.claim(BASE, 8 * MiB);
    const addr = kernel.memremap.devmMemremap(kernel.driverCore, parent, res.start, 8 * MiB, MEMREMAP_WB);
    kernel.faultInject.reset();
    kernel.faultInject.armNth(nth);
    const region = await devdax.allocDaxRegion(parent, 0, res, 2 * MiB, addr, PFN_DEV | PFN_MAP);
    let outcome: string;
    if (region === null) outcome = 'no region';
    else {
      try {
        await devdax.devmCreateDaxDev(region, [res]);
        outcome = 'created';
      } catch (e) {
        outcome = (e as { code: string }).code;
      } finally {
        devdax.daxRegionPut(region);
      }
    }
    const failed = [...kernel.faultInject.failed];
    kernel.faultInject.reset();
    if (failed.length === 0) {
      expect(outcome).toBe('created');
      expect(kernel.sysfs.exists('/sys/class/dax/dax0.0')).toBe(true);
      break;
    }
    reached.push(failed[0]!);
    expect(outcome).not.toBe('created');
    expect(kernel.sysfs.exists('/sys/class/dax/dax0.0')).toBe(false);
    expect(kernel.devtmpfs.lookup('/dev/dax0.0')).toBeUndefined();
    expect(devdax.stats().devices).toBe(0);
    if (region === null) {
      expect(parent.driverData).toBeNull();
      expect(kernel.sysfs.exists('/sys/bus/dax_test/devices/dax_test.0/dax_region')).toBe(false);
    }
  }
  console.log(`create path: ${reached.length} fail points covered: ${reached.join(', ')}`);
  expect(new Set(reached)).toEqual(
    new Set([
      'kzalloc',
      'sysfs_create_group',
      'devm_add_action',
      'ida_simple_get',
      'alloc_inode',
      'cdev_add',
      'device_add',
    ]),
  );
  expect(reached.length).toBeGreaterThanOrEqual(10);
});
