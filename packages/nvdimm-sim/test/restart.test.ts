/**
 * A reboot: a second Kernel over the same DIMMs (label areas, media, media errors) finds the same namespaces,
 * the fsdax pfn device with its settings, and the data; a torn label update leaves the previous set.
 */
import { O_RDWR } from '@daxsim/kernel';
import { expect, it } from 'vitest';
import {
  attr,
  bind,
  bootNd,
  createNamespace,
  driverOf,
  enableFsdax,
  MiB,
  ND,
  type NdTestStack,
  SPA0_BASE,
  SPA1_BASE,
  store,
  TestNvdimms,
} from './platform.js';

const FS_UUID = 'd1d2d3d4-e1e2-4f3f-8a4a-b5b6b7b8b9ba';
const RAW_UUID = 'e1e2e3e4-f1f2-4a3a-9b4b-c5c6c7c8c9ca';
const PFN_UUID = 'f1f2f3f4-a1a2-4b3b-ac4c-d5d6d7d8d9da';
const DATA = new TextEncoder().encode('written before the reboot');

function pio(s: NdTestStack, disk: string, offset: number, data?: Uint8Array): Uint8Array {
  const t = s.kernel.spawn('dd');
  const fd = t.open(`/dev/${disk}`, O_RDWR);
  try {
    if (data !== undefined) {
      t.pwrite(fd, data, offset);
      return data;
    }
    const out = new Uint8Array(DATA.length);
    t.pread(fd, out, offset);
    return out;
  } finally {
    t.close(fd);
    t.exit();
    s.kernel.reapTask(t);
  }
}

function view(s: NdTestStack, region: string) {
  const k = s.kernel;
  return k.sysfs
    .readdir(`${ND}/${region}`)
    .filter((d) => /^namespace\d+\.\d+$/.test(d) && attr(k, d, 'size') !== '0')
    .map((d) => ({
      name: d,
      uuid: attr(k, d, 'uuid'),
      size: attr(k, d, 'size'),
      altName: attr(k, d, 'alt_name'),
      mode: attr(k, d, 'mode'),
      resource: attr(k, d, 'resource'),
    }));
}

it('a second kernel over the same DIMMs finds the same namespaces, fsdax device and data', async () => {
  const nv = new TestNvdimms();
  let before: { r0: ReturnType<typeof view>; r1: ReturnType<typeof view> };
  {
    await using s = await bootNd(nv);
    const k = s.kernel;
    const fs = await createNamespace(k, 'region0', 256 * MiB, FS_UUID);
    await store(k, fs, 'alt_name', 'fsdax');
    const pfn = await enableFsdax(k, 'region0', fs, { uuid: PFN_UUID, align: 4096 });
    expect(driverOf(k, pfn)).toBe('nd_pmem');
    pio(s, 'pmem0', 8192, DATA);
    const raw = await createNamespace(k, 'region1', 64 * MiB, RAW_UUID);
    await bind(k, 'nd_pmem', raw);
    pio(s, 'pmem1', 4096, DATA);
    s.firmware.injectError(SPA1_BASE + 32 * MiB, 512);
    before = { r0: view(s, 'region0'), r1: view(s, 'region1') };
  }
  expect(before.r0).toEqual([
    {
      name: 'namespace0.0',
      uuid: FS_UUID,
      size: String(256 * MiB),
      altName: 'fsdax',
      mode: 'memory',
      resource: `0x${SPA0_BASE.toString(16)}`,
    },
  ]);

  await using s = await bootNd(nv);
  const k = s.kernel;
  expect(view(s, 'region0')).toEqual(before.r0);
  expect(view(s, 'region1')).toEqual(before.r1);
  expect(attr(k, 'region0', 'init_namespaces')).toBe('1/1');
  // the namespace probed raw, found the info block and handed over to a new pfn device with its settings
  const holder = attr(k, 'namespace0.0', 'holder');
  expect(holder).toBe('pfn0.1');
  expect(driverOf(k, holder)).toBe('nd_pmem');
  expect([attr(k, holder, 'uuid'), attr(k, holder, 'mode'), attr(k, holder, 'align')]).toEqual([
    PFN_UUID,
    'pmem',
    '4096',
  ]);
  expect(attr(k, 'region0', 'pfn_seed')).toBe('pfn0.0');
  expect(attr(k, 'region0', 'namespace_seed')).toBe('namespace0.1');
  expect(driverOf(k, 'namespace1.0')).toBe('nd_pmem');
  expect(pio(s, 'pmem0', 8192)).toEqual(DATA);
  expect(pio(s, 'pmem1', 4096)).toEqual(DATA);
  // the media error is still there and the first scrub found it
  expect(k.sysfs.read('/sys/block/pmem1/badblocks')).toBe(`${(32 * MiB) / 512} 1\n`);
  expect(attr(k, 'nmem0', 'available_slots')).toBe('1014');
  expect(attr(k, 'nmem1', 'available_slots')).toBe('1013');
});

it('a label update torn before its index write leaves the previous namespace set after a reboot', async () => {
  const nv = new TestNvdimms();
  {
    await using s = await bootNd(nv);
    const k = s.kernel;
    await createNamespace(k, 'region1', 64 * MiB, RAW_UUID);
    const label = nv.labels.get(1)!.slice();
    await store(k, 'namespace1.0', 'size', String(128 * MiB));
    // power fails after the new label slot was written but before the index flipped
    const now = nv.labels.get(1)!;
    const indexBytes = 2 * 256;
    now.set(label.subarray(0, indexBytes), 0);
  }
  await using s = await bootNd(nv);
  expect(view(s, 'region1').map((n) => [n.uuid, n.size])).toEqual([[RAW_UUID, String(64 * MiB)]]);
});
