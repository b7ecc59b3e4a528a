/**
 * Fail-point sweep (as packages/device-dax/test/create_failures.test.ts does for device-dax): for every N the path
 * reaches, the Nth fail-point call of "give a namespace capacity, then enable fsdax on it through the pfn seed"
 * fails. Each run ends in an error or in success, the stack stays usable, and once torn down nothing leaks
 * (the leak check of bootNd's dispose).
 */
import { expect, it } from 'vitest';
import { attr, bind, bootNd, driverOf, errnoOf, MiB, store } from './platform.js';

const NS_UUID = '2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901';
const PFN_UUID = '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b';

it('every failure injected while creating a namespace and enabling fsdax unwinds completely', async () => {
  const reached: string[] = [];
  const outcomes = new Map<string, number>();
  for (let nth = 1; ; nth++) {
    await using s = await bootNd();
    const k = s.kernel;
    await store(k, 'namespace0.0', 'uuid', NS_UUID);
    const pfn = attr(k, 'region0', 'pfn_seed');
    k.faultInject.reset();
    k.faultInject.armNth(nth);
    let sized = false;
    let outcome = await errnoOf(store(k, 'namespace0.0', 'size', String(256 * MiB)));
    if (outcome === 'ok') {
      sized = true;
      outcome = await errnoOf(async () => {
        await store(k, pfn, 'uuid', PFN_UUID);
        await store(k, pfn, 'mode', 'pmem');
        await store(k, pfn, 'namespace', 'namespace0.0');
        await bind(k, 'nd_pmem', pfn);
      });
      if (outcome === 'ok') outcome = driverOf(k, pfn) === 'nd_pmem' ? 'enabled' : 'not bound';
    }
    await k.async.synchronizeFull();
    const failed = [...k.faultInject.failed];
    k.faultInject.reset();
    if (failed.length === 0) {
      expect(outcome).toBe('enabled');
      expect(k.sysfs.read('/sys/block/pmem0/size')).toBe(`${(250 * MiB) / 512}\n`);
      break;
    }
    reached.push(failed[0]!);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    // ENOMEM: the label write of the size store (nvdimm_set_config_data); ENODEV: a failed probe
    expect(['enabled', 'ENODEV', 'ENOMEM']).toContain(outcome);
    if (outcome === 'ENOMEM') expect(failed).toEqual(['nvdimm_set_config_data']);
    // the one WARN on the path is v4.12 device_add_disk()'s WARN_ON(1) when blk_alloc_devt() fails
    const warned = k.dmesg().filter((l) => l.includes('WARNING: at'));
    expect(warned.every((l) => l.endsWith('WARNING: at block/genhd.c:device_add_disk'))).toBe(true);
    s.expectedWarnings = warned.length;
    // a failed size store is retried; a failed enable leaves the configured seed behind, and retrying it works
    if (!sized) {
      await store(k, 'namespace0.0', 'size', String(256 * MiB));
      await store(k, pfn, 'uuid', PFN_UUID);
      await store(k, pfn, 'mode', 'pmem');
      await store(k, pfn, 'namespace', 'namespace0.0');
      await bind(k, 'nd_pmem', pfn);
      expect(driverOf(k, pfn)).toBe('nd_pmem');
    } else if (outcome !== 'enabled') {
      expect(attr(k, 'namespace0.0', 'holder')).toBe(pfn);
      await bind(k, 'nd_pmem', pfn);
      expect(driverOf(k, pfn)).toBe('nd_pmem');
    }
    expect(k.sysfs.exists('/sys/block/pmem0')).toBe(true);
  }
  console.log(
    `fsdax create path: ${reached.length} fail points covered (${[...new Set(reached)].join(', ')}); outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`,
  );
  expect(reached.length).toBeGreaterThanOrEqual(30);
  expect(new Set(reached)).toEqual(
    new Set([
      'nvdimm_set_config_data',
      'request_region',
      'badblocks_init',
      'memremap',
      'devm_add_action',
      'devm_memremap_pages',
      'kzalloc',
      'alloc_disk',
      'ida_simple_get',
      'alloc_inode',
      'device_add',
      'sysfs_create_group',
      'nd_pfn_alloc',
      'nd_namespace_pmem_create',
    ]),
  );
  expect(outcomes.get('ENODEV')).toBeGreaterThan(0);
});
