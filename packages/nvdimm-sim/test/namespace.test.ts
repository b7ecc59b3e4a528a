/**
 * Labelled namespaces configured through sysfs: the store rules of uuid, size and alt_name with the kernel's
 * errnos, DPA accounting (available_size), label slots and the labels on the DIMMs, deletion at size 0, and a
 * region disable/enable that finds the same namespaces again from the labels.
 */
import { describe, expect, it } from 'vitest';
import { LabelArea, type NamespaceLabel, uuidToString } from '../src/index.js';
import {
  attr,
  bind,
  bootNd,
  createNamespace,
  driverOf,
  enableFsdax,
  errnoOf,
  GiB,
  MiB,
  ND,
  SPA0_BASE,
  store,
  type TestNvdimms,
  unbind,
} from './platform.js';

const UUID_A = '8b5a6e3c-2f1d-4c7b-9a0e-1d2c3b4a5f60';
const UUID_B = '0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b';
const UUID_C = 'c0ffee00-1234-4abc-8def-0123456789ab';

/** The labels on a DIMM's label area as the kernel would read them at probe. */
function labelsOn(nv: TestNvdimms, handle: number): NamespaceLabel[] {
  const data = nv.labels.get(handle)!;
  const area = new LabelArea({
    size: data.length,
    read: (off, len) => data.slice(off, off + len),
    write: () => {
      throw new Error('read only');
    },
  });
  area.validate();
  return area.labels();
}

describe('namespace store rules', () => {
  it('refuses a size before a uuid, and malformed or duplicate uuids', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    expect(attr(k, 'namespace0.0', 'uuid')).toBe('');
    expect(await errnoOf(store(k, 'namespace0.0', 'size', String(8192)))).toBe('ENXIO');
    for (const bad of ['', 'xyz', '8b5a6e3c-2f1d-4c7b-9a0e-1d2c3b4a5f6', 'g'.repeat(32)])
      expect(await errnoOf(store(k, 'namespace0.0', 'uuid', bad))).toBe('EINVAL');
    expect(attr(k, 'namespace0.0', 'uuid')).toBe('');
    await store(k, 'namespace0.0', 'uuid', UUID_A.replaceAll('-', '').toUpperCase());
    expect(attr(k, 'namespace0.0', 'uuid')).toBe(UUID_A);
    // nd_is_uuid_unique() fails: namespace_update_uuid() says EINVAL
    expect(await errnoOf(store(k, 'namespace1.0', 'uuid', UUID_A))).toBe('EINVAL');
    expect(attr(k, 'namespace1.0', 'uuid')).toBe('');
    // a pfn device's uuid counts too
    await store(k, 'pfn1.0', 'uuid', UUID_B);
    expect(await errnoOf(store(k, 'namespace1.0', 'uuid', UUID_B))).toBe('EINVAL');
  });

  it('takes sizes in multiples of 4K per mapping, up to what the region has free', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    await store(k, 'namespace0.0', 'uuid', UUID_A);
    for (const bad of ['4096', '12288', String(256 * MiB + 4096)])
      expect(await errnoOf(store(k, 'namespace0.0', 'size', bad))).toBe('EINVAL');
    for (const junk of ['', 'lots', '-8192', '1G'])
      expect(await errnoOf(store(k, 'namespace0.0', 'size', junk))).toBe('EINVAL');
    expect(await errnoOf(store(k, 'namespace0.0', 'size', String(GiB + 8192)))).toBe('ENOSPC');
    expect(attr(k, 'namespace0.0', 'size')).toBe('0');
    await store(k, 'namespace0.0', 'size', '0x2000');
    expect(attr(k, 'namespace0.0', 'size')).toBe('8192');
    await store(k, 'namespace0.0', 'size', String(GiB));
    expect(attr(k, 'namespace0.0', 'size')).toBe(String(GiB));
    expect(attr(k, 'region0', 'available_size')).toBe('0');
    // a 1-way region takes any multiple of 4K
    await store(k, 'namespace1.0', 'uuid', UUID_B);
    await store(k, 'namespace1.0', 'size', '12288');
    expect(attr(k, 'namespace1.0', 'size')).toBe('12288');
    expect(attr(k, 'region1', 'available_size')).toBe(String(512 * MiB - 12288));
  });

  it('takes force_raw as kstrtobool input', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    await store(k, 'namespace0.0', 'force_raw', 'on');
    expect(attr(k, 'namespace0.0', 'force_raw')).toBe('1');
    expect(await errnoOf(store(k, 'namespace0.0', 'force_raw', 'x'))).toBe('EINVAL');
    expect(attr(k, 'namespace0.0', 'force_raw')).toBe('1');
    await store(k, 'namespace0.0', 'force_raw', 'N');
    expect(attr(k, 'namespace0.0', 'force_raw')).toBe('0');
  });

  it('limits alt_name to 63 bytes', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    expect(await errnoOf(store(k, 'namespace0.0', 'alt_name', 'x'.repeat(64)))).toBe('EINVAL');
    expect(await errnoOf(store(k, 'namespace0.0', 'alt_name', 'é'.repeat(32)))).toBe('EINVAL');
    expect(attr(k, 'namespace0.0', 'alt_name')).toBe('');
    await store(k, 'namespace0.0', 'alt_name', 'y'.repeat(63));
    expect(attr(k, 'namespace0.0', 'alt_name')).toBe('y'.repeat(63));
  });

  it('refuses uuid, size and alt_name changes while the namespace is enabled', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const ns = await createNamespace(k, 'region0', 256 * MiB, UUID_A);
    await bind(k, 'nd_pmem', ns);
    expect(driverOf(k, ns)).toBe('nd_pmem');
    expect(await errnoOf(store(k, ns, 'size', String(128 * MiB)))).toBe('EBUSY');
    expect(await errnoOf(store(k, ns, 'size', '0'))).toBe('EBUSY');
    expect(await errnoOf(store(k, ns, 'uuid', UUID_B))).toBe('EBUSY');
    expect(await errnoOf(store(k, ns, 'alt_name', 'busy'))).toBe('EBUSY');
    expect(attr(k, ns, 'size')).toBe(String(256 * MiB));
    expect(attr(k, ns, 'uuid')).toBe(UUID_A);
    await unbind(k, ns);
    await store(k, ns, 'size', String(128 * MiB));
    expect(attr(k, ns, 'size')).toBe(String(128 * MiB));
  });
});

describe('labels and capacity', () => {
  it('writes one label per DIMM of the set and gives slots and capacity back at size 0', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const nv = s.nvdimms;
    await store(k, 'namespace0.0', 'uuid', UUID_A);
    await store(k, 'namespace0.0', 'alt_name', 'first');
    // nothing is written until the namespace has capacity
    expect(s.firmware.calls.get('set_config_data')).toBeUndefined();
    await store(k, 'namespace0.0', 'size', String(256 * MiB));
    expect(attr(k, 'namespace0.0', 'resource')).toBe(`0x${SPA0_BASE.toString(16)}`);
    expect(attr(k, 'region0', 'available_size')).toBe(String(768 * MiB));
    expect(attr(k, 'nmem0', 'available_slots')).toBe('1014');
    expect(attr(k, 'nmem1', 'available_slots')).toBe('1014');
    const cookie = BigInt(attr(k, 'region0', 'set_cookie'));
    for (const [position, handle] of [0, 1].entries()) {
      const labels = labelsOn(nv, handle);
      expect(labels).toHaveLength(1);
      const [label] = labels;
      expect(uuidToString(label!.uuid)).toBe(UUID_A);
      expect(label).toMatchObject({
        name: 'first',
        nlabel: 2,
        position,
        isetcookie: cookie,
        dpa: 0,
        rawsize: 128 * MiB,
        slot: 0,
      });
    }
    // growing rewrites the label in the next slot, freeing the old one in the same index update
    await store(k, 'namespace0.0', 'size', String(512 * MiB));
    expect(labelsOn(nv, 0).map((l) => [l.slot, l.rawsize])).toEqual([[1, 256 * MiB]]);
    expect(attr(k, 'nmem0', 'available_slots')).toBe('1014');
    await store(k, 'namespace0.0', 'size', '0');
    expect(labelsOn(nv, 0)).toEqual([]);
    expect(labelsOn(nv, 1)).toEqual([]);
    expect(attr(k, 'nmem0', 'available_slots')).toBe('1015');
    expect(attr(k, 'region0', 'available_size')).toBe(String(GiB));
    // size 0 deletes the namespace's identity; the seed (id 0) stays
    expect(attr(k, 'namespace0.0', 'uuid')).toBe('');
    expect(attr(k, 'namespace0.0', 'size')).toBe('0');
    expect(await errnoOf(() => attr(k, 'namespace0.0', 'resource'))).toBe('ENXIO');
    expect(k.sysfs.exists(`${ND}/namespace0.0`)).toBe(true);
  });

  it('unregisters a deleted namespace that is neither the seed nor id 0', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const first = await createNamespace(k, 'region0', 256 * MiB, UUID_A);
    await bind(k, 'nd_pmem', first);
    expect(attr(k, 'region0', 'namespace_seed')).toBe('namespace0.1');
    const second = await createNamespace(k, 'region0', 128 * MiB, UUID_B);
    expect(second).toBe('namespace0.1');
    expect(attr(k, second, 'resource')).toBe(`0x${(SPA0_BASE + 256 * MiB).toString(16)}`);
    await bind(k, 'nd_pmem', second);
    expect(attr(k, 'region0', 'namespace_seed')).toBe('namespace0.2');
    expect(attr(k, 'region0', 'available_size')).toBe(String(GiB - 384 * MiB));
    await unbind(k, second);
    await store(k, second, 'size', '0');
    await k.async.synchronizeFull();
    expect(k.sysfs.exists(`${ND}/${second}`)).toBe(false);
    expect(attr(k, 'region0', 'available_size')).toBe(String(GiB - 256 * MiB));
    expect(labelsOn(s.nvdimms, 0).map((l) => uuidToString(l.uuid))).toEqual([UUID_A]);
    // the freed uuid can be used again
    await store(k, 'namespace0.2', 'uuid', UUID_B);
    expect(attr(k, 'namespace0.2', 'uuid')).toBe(UUID_B);
  });
});

describe('region disable and enable', () => {
  it('tears the namespaces down and finds the same ones again from the labels', async () => {
    await using s = await bootNd();
    const k = s.kernel;
    const a = await createNamespace(k, 'region0', 256 * MiB, UUID_A);
    await store(k, a, 'alt_name', 'fs');
    await enableFsdax(k, 'region0', a, { uuid: UUID_C });
    const b = await createNamespace(k, 'region0', 256 * MiB, UUID_B);
    await store(k, b, 'alt_name', 'raw');
    await bind(k, 'nd_pmem', b);
    expect([a, b]).toEqual(['namespace0.0', 'namespace0.1']);
    expect(k.sysfs.readdir('/sys/block')).toEqual(['pmem0', 'pmem0.1', 'pmem2']);

    await unbind(k, 'region0');
    expect(k.sysfs.readdir(`${ND}/region0`).filter((d) => /\d+\.\d+$/.test(d))).toEqual([]);
    expect(k.sysfs.readdir('/sys/block')).toEqual(['pmem2']);
    expect(await errnoOf(() => attr(k, 'region0', 'init_namespaces'))).toBe('ENXIO');
    expect(attr(k, 'region0', 'namespace_seed')).toBe('');
    expect(attr(k, 'region0', 'pfn_seed')).toBe('');

    await bind(k, 'nd_region', 'region0');
    expect(attr(k, 'region0', 'init_namespaces')).toBe('2/2');
    const found = k.sysfs
      .readdir(`${ND}/region0`)
      .filter((d) => /^namespace\d+\.\d+$/.test(d))
      .map((d) => [d, attr(k, d, 'uuid'), attr(k, d, 'size'), attr(k, d, 'alt_name'), attr(k, d, 'mode')]);
    expect(found).toEqual([
      ['namespace0.0', UUID_A, String(256 * MiB), 'fs', 'memory'],
      ['namespace0.1', UUID_B, String(256 * MiB), 'raw', 'raw'],
      // the pfn device that took over namespace0.0, the seed, planted a new seed
      ['namespace0.2', '', '0', '', 'raw'],
    ]);
    // the raw one is a disk again; the fsdax one came back through a new pfn device with the old settings
    expect(driverOf(k, 'namespace0.1')).toBe('nd_pmem');
    const holder = attr(k, 'namespace0.0', 'holder');
    expect(holder).toBe('pfn0.1');
    expect(driverOf(k, holder)).toBe('nd_pmem');
    expect(attr(k, holder, 'uuid')).toBe(UUID_C);
    expect(attr(k, holder, 'mode')).toBe('pmem');
    expect(attr(k, 'region0', 'namespace_seed')).toBe('namespace0.2');
    expect(attr(k, 'region0', 'pfn_seed')).toBe('pfn0.0');
    expect(k.sysfs.readdir('/sys/block')).toEqual(['pmem0', 'pmem0.1', 'pmem2']);
    expect(attr(k, 'region0', 'available_size')).toBe(String(GiB - 512 * MiB));
  });
});
