/**
 * The nd bus as userspace finds it after boot: ndbusN with its nfit/ directory, the nmemN DIMMs and the regionN
 * devices, with their exact sysfs values, the read_only store rules, and region badblocks after a scrub.
 */
import { describe, expect, it } from 'vitest';
import { interleaveSetCookie } from '../src/index.js';
import {
  attr,
  bind,
  bootNd,
  createNamespace,
  driverOf,
  errnoOf,
  GiB,
  MiB,
  ND,
  type NdTestStack,
  SPA0_BASE,
  SPA2_BASE,
  store,
  TestNvdimms,
  testPlatform,
  unbind,
} from './platform.js';

const raw = (s: NdTestStack, path: string): string => s.kernel.sysfs.read(path);

/** The cookie nfit computes for SPA range `i` of the test platform. */
function cookieOf(i: number): bigint {
  const p = testPlatform();
  return interleaveSetCookie(p.spas[i]!, new Map(p.dimms.map((d) => [d.handle, d])));
}

describe('ndbus0', () => {
  it('lists the bus, DIMMs, regions, seeds and the label-less namespace', async () => {
    await using s = await bootNd();
    expect(s.kernel.sysfs.readdir(ND)).toEqual([
      'dax0.0',
      'dax1.0',
      'dax2.0',
      'namespace0.0',
      'namespace1.0',
      'namespace2.0',
      'ndbus0',
      'nmem0',
      'nmem1',
      'nmem2',
      'pfn0.0',
      'pfn1.0',
      'pfn2.0',
      'region0',
      'region1',
      'region2',
    ]);
    expect(s.kernel.sysfs.readlink(`${ND}/region0`)).toBe('../../../devices/nvdimm_sim_test/ndbus0/region0');
  });

  it('shows the provider, its commands (with the kernel trailing space) and a first completed scrub', async () => {
    await using s = await bootNd();
    expect(raw(s, `${ND}/ndbus0/provider`)).toBe('nvdimm_sim_test\n');
    expect(raw(s, `${ND}/ndbus0/commands`)).toBe('ars_cap ars_start ars_status clear_error \n');
    expect(raw(s, `${ND}/ndbus0/nfit/revision`)).toBe('1\n');
    expect(raw(s, `${ND}/ndbus0/nfit/scrub`)).toBe('1\n');
    expect(s.firmware.calls.get('ars_start')).toBe(3);
  });

  it('nfit/scrub accepts only 1 and counts each completed scrub, polling a busy firmware', async () => {
    await using s = await bootNd(new TestNvdimms(), { arsBusyOnce: true });
    const k = s.kernel;
    // boot: each of the three ranges answered busy once, then done (plus the drain before each start)
    expect(s.firmware.calls.get('ars_status')).toBe(9);
    expect(await errnoOf(store(k, 'ndbus0', 'nfit/scrub', '2'))).toBe('EINVAL');
    expect(await errnoOf(store(k, 'ndbus0', 'nfit/scrub', 'x'))).toBe('EINVAL');
    expect(attr(k, 'ndbus0', 'nfit/scrub')).toBe('1');
    await store(k, 'ndbus0', 'nfit/scrub', '1');
    expect(attr(k, 'ndbus0', 'nfit/scrub')).toBe('2');
    expect(s.firmware.calls.get('ars_status')).toBe(18);
  });
});

describe('nmemN', () => {
  it('shows commands, state, label slots and the nfit/ identity of each DIMM', async () => {
    await using s = await bootNd();
    expect(raw(s, `${ND}/nmem0/commands`)).toBe('smart get_size get_data set_data \n');
    expect(raw(s, `${ND}/nmem2/commands`)).toBe('smart \n');
    expect(raw(s, `${ND}/nmem0/nfit/handle`)).toBe('0\n');
    expect(raw(s, `${ND}/nmem1/nfit/handle`)).toBe('0x1\n');
    expect(raw(s, `${ND}/nmem2/nfit/handle`)).toBe('0x100\n');
    expect(raw(s, `${ND}/nmem0/nfit/phys_id`)).toBe('0x10\n');
    expect(raw(s, `${ND}/nmem0/nfit/serial`)).toBe('0xa1b2c3d0\n');
    expect(raw(s, `${ND}/nmem0/nfit/flags`)).toBe('\n');
    expect(raw(s, `${ND}/nmem2/nfit/flags`)).toBe('not_armed \n');
    // 128 KiB / 129 = 1016 slots; one is always kept back for the next update
    expect(raw(s, `${ND}/nmem0/available_slots`)).toBe('1015\n');
    expect(raw(s, `${ND}/nmem1/available_slots`)).toBe('1015\n');
    expect(driverOf(s.kernel, 'nmem0')).toBe('nvdimm');
    for (const d of ['nmem0', 'nmem1', 'nmem2']) expect(attr(s.kernel, d, 'state')).toBe('active');
  });

  it('is idle once no enabled region maps it, and its slots are unreadable while its driver is unbound', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    await unbind(k, 'region0');
    expect(attr(k, 'nmem0', 'state')).toBe('idle');
    expect(attr(k, 'nmem1', 'state')).toBe('active');
    await unbind(k, 'nmem0');
    expect(await errnoOf(() => attr(k, 'nmem0', 'available_slots'))).toBe('ENXIO');
    // region0 cannot come up without nmem0
    expect(await errnoOf(bind(k, 'nd_region', 'region0'))).toBe('ENODEV');
    expect(attr(k, 'region0', 'available_size')).toBe('0');
    await bind(k, 'nvdimm', 'nmem0');
    await bind(k, 'nd_region', 'region0');
    expect(attr(k, 'nmem0', 'state')).toBe('active');
    expect(attr(k, 'nmem0', 'available_slots')).toBe('1015');
  });
});

describe('regionN', () => {
  it('describes the 2-way interleave set', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const cookie = cookieOf(0);
    expect(raw(s, `${ND}/region0/size`)).toBe(`${GiB}\n`);
    expect(raw(s, `${ND}/region0/available_size`)).toBe(`${GiB}\n`);
    expect(raw(s, `${ND}/region0/mappings`)).toBe('2\n');
    expect(raw(s, `${ND}/region0/mapping0`)).toBe(`nmem0,0,${512 * MiB},0\n`);
    expect(raw(s, `${ND}/region0/mapping1`)).toBe(`nmem1,0,${512 * MiB},1\n`);
    expect(k.sysfs.exists(`${ND}/region0/mapping2`)).toBe(false);
    expect(raw(s, `${ND}/region0/nstype`)).toBe('5\n');
    expect(raw(s, `${ND}/region0/set_cookie`)).toBe(`0x${cookie.toString(16)}\n`);
    expect(raw(s, `${ND}/region0/resource`)).toBe('0x100000000\n');
    expect(raw(s, `${ND}/region0/namespace_seed`)).toBe('namespace0.0\n');
    expect(raw(s, `${ND}/region0/pfn_seed`)).toBe('pfn0.0\n');
    expect(raw(s, `${ND}/region0/dax_seed`)).toBe('dax0.0\n');
    // no labels: the zero-sized seed is the one namespace registered
    expect(raw(s, `${ND}/region0/init_namespaces`)).toBe('1/1\n');
    expect(raw(s, `${ND}/region0/read_only`)).toBe('0\n');
    expect(raw(s, `${ND}/region0/badblocks`)).toBe('');
    expect(raw(s, `${ND}/region1/mapping0`)).toBe(`nmem1,${512 * MiB},${512 * MiB},0\n`);
    expect(raw(s, `${ND}/region1/available_size`)).toBe(`${512 * MiB}\n`);
  });

  it('gives a label-less DIMM a namespace_io region whose namespace nd_pmem binds at boot', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const cookie = cookieOf(2);
    expect(attr(k, 'region2', 'nstype')).toBe('4');
    expect(attr(k, 'region2', 'size')).toBe(String(256 * MiB));
    expect(attr(k, 'region2', 'available_size')).toBe('0');
    expect(attr(k, 'region2', 'set_cookie')).toBe(`0x${cookie.toString(16)}`);
    expect(attr(k, 'region2', 'init_namespaces')).toBe('1/1');
    expect(attr(k, 'namespace2.0', 'nstype')).toBe('4');
    expect(attr(k, 'namespace2.0', 'size')).toBe(String(256 * MiB));
    expect(attr(k, 'namespace2.0', 'resource')).toBe(`0x${SPA2_BASE.toString(16)}`);
    expect(k.sysfs.exists(`${ND}/namespace2.0/uuid`)).toBe(false);
    expect(await errnoOf(store(k, 'namespace2.0', 'size', '0'))).toBe('EACCES');
    expect(driverOf(k, 'namespace2.0')).toBe('nd_pmem');
    expect(k.sysfs.read('/sys/block/pmem2/size')).toBe(`${(256 * MiB) / 512}\n`);
    expect(k.iomem.procIomem()).toBe(
      [
        '100000000-13fffffff : Persistent Memory',
        '180000000-19fffffff : Persistent Memory',
        '200000000-20fffffff : Persistent Memory',
        '  200000000-20fffffff : namespace2.0',
        '',
      ].join('\n'),
    );
  });

  it('read_only takes kstrtobool input', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    for (const [input, want] of [
      ['1', '1'],
      ['0', '0'],
      ['y', '1'],
      ['N', '0'],
      ['Yes', '1'],
      ['on', '1'],
      ['off', '0'],
    ] as const) {
      await store(k, 'region1', 'read_only', input);
      expect(attr(k, 'region1', 'read_only')).toBe(want);
    }
    for (const bad of ['2', 'o', 'true', ' 1']) {
      expect(await errnoOf(store(k, 'region1', 'read_only', bad))).toBe('EINVAL');
      expect(attr(k, 'region1', 'read_only')).toBe('0');
    }
    expect(await errnoOf(k.sysfs.write(`${ND}/region1/read_only`, ''))).toBe('EINVAL');
  });

  it('lists the errors a scrub finds as region badblocks, relative to the region', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    s.firmware.injectError(SPA0_BASE + MiB, 4096);
    s.firmware.injectError(SPA2_BASE + 512, 256);
    expect(attr(k, 'region0', 'badblocks')).toBe('');
    await store(k, 'ndbus0', 'nfit/scrub', '1');
    expect(raw(s, `${ND}/region0/badblocks`)).toBe('2048 8\n');
    expect(raw(s, `${ND}/region1/badblocks`)).toBe('');
    expect(raw(s, `${ND}/region2/badblocks`)).toBe('1 1\n');
    // the namespace_io disk learns of its error as well
    expect(k.sysfs.read('/sys/block/pmem2/badblocks')).toBe('1 1\n');
  });

  it('reports errors present at boot, found by the first scrub', async () => {
    const nv = new TestNvdimms();
    nv.errors.push({ address: SPA0_BASE + 3 * MiB, length: 8192 });
    await using s = await bootNd(nv);
    expect(raw(s, `${ND}/region0/badblocks`)).toBe(`${(3 * MiB) / 512} 16\n`);
  });

  it('shows available_size shrinking as namespaces take capacity', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    await createNamespace(k, 'region0', 256 * MiB, '6f1e1b4a-5f0e-4a43-9c53-9f3b7a1c2d01');
    expect(attr(k, 'region0', 'available_size')).toBe(String(768 * MiB));
    expect(attr(k, 'region1', 'available_size')).toBe(String(512 * MiB));
  });
});
