/**
 * `ndctl list` over the nfit_test platform: nfit_test.0 (ndbus0: nmem0-3, pmem regions 0 and 1 with labels)
 * and nfit_test.1 (ndbus1: nmem4 with failed flags, io regions 2 and 3, region3 read-only). Namespaces are
 * set up through sysfs (setup_namespaces.ts), never through the commands under test. libndctl lists devices in
 * reverse directory order, so ndbus1 comes before ndbus0, region1 before region0, mapping3 before mapping0.
 */
import { describe, expect, it } from 'vitest';
import { cmdList } from '../src/ndctl/list.js';
import { createNamespace, disableNamespace, read } from './setup_namespaces.js';
import { bootTools, errOnly, MiB, type ToolFixture } from './tool_fixture.js';

const NS = {
  dax: { uuid: 'aaaaaaaa-0000-4000-8000-000000000001', claim: 'aaaaaaaa-0000-4000-8000-0000000000d1' },
  fs: { uuid: 'aaaaaaaa-0000-4000-8000-000000000002', claim: 'aaaaaaaa-0000-4000-8000-0000000000f2' },
  raw: { uuid: 'aaaaaaaa-0000-4000-8000-000000000003' },
};

/** The interleave-set cookies as JSON.parse reads them (past 2^53; the exact text is asserted separately). */
const ISET_ID0 = JSON.parse('18446744017874976765') as number;
const ISET_ID1 = JSON.parse('2882277149966859770') as number;

const io3 = { dev: 'namespace3.0', mode: 'raw', size: 4194304, sector_size: 512, blockdev: 'pmem3' };
const io2 = { dev: 'namespace2.0', mode: 'raw', size: 33554432, sector_size: 512, blockdev: 'pmem2' };
const devdax = {
  dev: 'namespace1.0',
  mode: 'devdax',
  map: 'dev',
  size: 14680064,
  uuid: NS.dax.claim,
  chardev: 'dax1.0',
  align: 2097152,
};
const fsdax = {
  dev: 'namespace1.1',
  mode: 'fsdax',
  map: 'dev',
  size: 14680064,
  uuid: NS.fs.claim,
  sector_size: 512,
  align: 2097152,
  blockdev: 'pmem1.1',
  name: 'fs',
};
const raw = {
  dev: 'namespace1.2',
  mode: 'raw',
  size: 16777216,
  uuid: NS.raw.uuid,
  sector_size: 512,
  blockdev: 'pmem1.2',
};
const nmem4 = {
  dev: 'nmem4',
  handle: 0,
  phys_id: 0,
  flag_failed_save: true,
  flag_failed_arm: true,
  flag_failed_restore: true,
  flag_failed_flush: true,
  flag_smart_event: true,
};
const region3 = {
  dev: 'region3',
  size: 4194304,
  available_size: 0,
  max_available_extent: 0,
  type: 'pmem',
  persistence_domain: 'unknown',
};
const region2 = {
  dev: 'region2',
  size: 33554432,
  available_size: 0,
  max_available_extent: 0,
  type: 'pmem',
  persistence_domain: 'unknown',
};
const region2Mappings = [{ dimm: 'nmem4', offset: 0, length: 33554432, position: 0 }];
const region0 = {
  dev: 'region0',
  size: 33554432,
  available_size: 33554432,
  type: 'pmem',
  iset_id: ISET_ID0,
  persistence_domain: 'unknown',
};

/** devdax, fsdax (named "fs") and raw namespaces of 16 MiB each on region1, in that order. */
async function threeNamespaces(f: ToolFixture): Promise<void> {
  const k = f.kernel;
  await createNamespace(k, 'region1', {
    mode: 'devdax',
    size: 16 * MiB,
    uuid: NS.dax.uuid,
    claimUuid: NS.dax.claim,
  });
  await createNamespace(k, 'region1', {
    mode: 'fsdax',
    size: 16 * MiB,
    uuid: NS.fs.uuid,
    claimUuid: NS.fs.claim,
    name: 'fs',
  });
  await createNamespace(k, 'region1', { mode: 'raw', size: 16 * MiB, uuid: NS.raw.uuid });
}

describe('ndctl list', () => {
  it('with no options lists the enabled namespaces of every bus, printed as json-c prints them', async () => {
    await using f = await bootTools();
    const r = await f.run(cmdList);
    expect(r).toEqual({
      status: 0,
      err: '',
      out: `[
  {
    "dev":"namespace3.0",
    "mode":"raw",
    "size":4194304,
    "sector_size":512,
    "blockdev":"pmem3"
  },
  {
    "dev":"namespace2.0",
    "mode":"raw",
    "size":33554432,
    "sector_size":512,
    "blockdev":"pmem2"
  }
]
`,
    });
    expect(await f.run(cmdList, '-N')).toEqual(r);
    expect(await f.run(cmdList, '--namespaces', '--bus=all', '--region=all')).toEqual(r);
  });

  it('-R -D: regions with their mappings (reverse order), dimms beside them in a platform object', async () => {
    await using f = await bootTools();
    const r = await f.run(cmdList, '-R', '-D');
    expect(r.status).toBe(0);
    expect(r.out).toContain(`
    {
      "dev":"region0",
      "size":33554432,
      "available_size":33554432,
      "type":"pmem",
      "iset_id":18446744017874976765,
      "mappings":[
        {
          "dimm":"nmem1",
          "offset":0,
          "length":16777216,
          "position":1
        },
        {
          "dimm":"nmem0",
          "offset":0,
          "length":16777216,
          "position":0
        }
      ],
      "persistence_domain":"unknown"
    }
  ]
}
`);
    expect(JSON.parse(r.out)).toEqual({
      dimms: [
        nmem4,
        { dev: 'nmem3', handle: 257, phys_id: 3 },
        { dev: 'nmem2', handle: 256, phys_id: 2 },
        { dev: 'nmem1', handle: 1, phys_id: 1 },
        { dev: 'nmem0', handle: 0, phys_id: 0 },
      ],
      regions: [
        region3,
        { ...region2, mappings: region2Mappings },
        {
          dev: 'region1',
          size: 67108864,
          available_size: 67108864,
          type: 'pmem',
          iset_id: ISET_ID1,
          mappings: [3, 2, 1, 0].map((i) => ({
            dimm: `nmem${i}`,
            offset: 16777216,
            length: 16777216,
            position: i,
          })),
          persistence_domain: 'unknown',
        },
        {
          ...region0,
          mappings: [1, 0].map((i) => ({ dimm: `nmem${i}`, offset: 0, length: 16777216, position: i })),
        },
      ],
    });
    expect(r.out).toContain('"iset_id":2882277149966859770,');
  });

  it('-N shows devdax, fsdax, raw and io namespaces with the claim device size, uuid and align', async () => {
    await using f = await bootTools();
    await threeNamespaces(f);
    expect(await f.json(cmdList, '-N')).toEqual([io3, io2, raw, fsdax, devdax]);
    expect(read(f.kernel, 'namespace1.0', 'size')).toBe('16777216');
    expect(read(f.kernel, 'namespace1.1', 'uuid')).toBe(NS.fs.uuid);
  });

  it('-X lists only devdax namespaces, with their dax region in place of chardev; -N -X keeps the others', async () => {
    await using f = await bootTools();
    await threeNamespaces(f);
    const { chardev: _, align, ...head } = devdax;
    const withRegion = {
      ...head,
      daxregion: {
        id: 1,
        size: 14680064,
        align: 2097152,
        devices: [{ chardev: 'dax1.0', size: 14680064, mode: 'devdax' }],
      },
      align,
    };
    expect(await f.json(cmdList, '-X')).toEqual([withRegion]);
    expect(await f.json(cmdList, '-N', '--device-dax')).toEqual([io3, io2, raw, fsdax, withRegion]);
    expect(await f.json(cmdList, '-X', '-m', 'raw')).toEqual([io3, io2, raw]);
  });

  it('-u prints sizes and hex values for people and a lone element by itself', async () => {
    await using f = await bootTools();
    await threeNamespaces(f);
    const r = await f.run(cmdList, '-u', '-n', 'namespace1.0');
    expect(r).toEqual({
      status: 0,
      err: '',
      out: `{
  "dev":"namespace1.0",
  "mode":"devdax",
  "map":"dev",
  "size":"14.00 MiB (14.68 MB)",
  "uuid":"${NS.dax.claim}",
  "chardev":"dax1.0",
  "align":2097152
}
`,
    });
    expect(await f.json(cmdList, '-R', '-u', '-r', 'region1')).toEqual({
      dev: 'region1',
      size: '64.00 MiB (67.11 MB)',
      available_size: '16.00 MiB (16.78 MB)',
      type: 'pmem',
      iset_id: '0x27ffe7cc03fffdfa',
      persistence_domain: 'unknown',
    });
    // Below 5000 KiB display_size() prints the plain number.
    expect(await f.json(cmdList, '-Ru', '-r', '3')).toEqual(region3);
    expect(await f.json(cmdList, '-Du', '-d', 'nmem3')).toEqual({
      dev: 'nmem3',
      handle: '0x101',
      phys_id: '0x3',
    });
    expect(await f.json(cmdList, '-Du', '-d', 'nmem0')).toEqual({ dev: 'nmem0', handle: '0', phys_id: '0' });
    expect(await f.json(cmdList, '-RDu', '-r', 'region2')).toMatchObject({
      regions: [{ mappings: [{ dimm: 'nmem4', offset: '0', length: '0x2000000', position: 0 }] }],
    });
    expect(await f.json(cmdList, '-u', '-N', '-r', '2')).toEqual({ ...io2, size: '32.00 MiB (33.55 MB)' });
    // -r alone lists regions, not namespaces.
    expect(await f.json(cmdList, '-u', '-m', 'raw', '-r', '2')).toEqual({
      ...region2,
      size: '32.00 MiB (33.55 MB)',
    });
    expect(await f.json(cmdList, '-u', '-b', 'nfit_test.1', '-N')).toEqual([
      io3,
      { ...io2, size: '32.00 MiB (33.55 MB)' },
    ]);
  });

  it('-i adds disabled namespaces and zero-sized namespace seeds; -c only the configured ones', async () => {
    await using f = await bootTools();
    await threeNamespaces(f);
    await disableNamespace(f.kernel, 'namespace1.0');
    const disabled = {
      dev: 'namespace1.0',
      mode: 'devdax',
      map: 'dev',
      uuid: NS.dax.claim,
      align: 2097152,
      state: 'disabled',
    };
    const seed = (dev: string) => ({
      dev,
      mode: 'raw',
      size: 0,
      uuid: '00000000-0000-0000-0000-000000000000',
      sector_size: 512,
      state: 'disabled',
    });
    expect(await f.json(cmdList, '-r', '1', '-N')).toEqual([raw, fsdax]);
    expect(await f.json(cmdList, '-r', '1', '-N', '-i')).toEqual([
      seed('namespace1.3'),
      raw,
      fsdax,
      disabled,
    ]);
    expect(await f.json(cmdList, '-b', '0', '-N', '--idle')).toEqual([
      seed('namespace1.3'),
      raw,
      fsdax,
      disabled,
      seed('namespace0.0'),
    ]);
    expect(await f.json(cmdList, '-r', '1', '-N', '-c')).toEqual([raw, fsdax, disabled]);
    expect(await f.json(cmdList, '-Xi', '-n', '1.0')).toEqual([{ ...disabled, daxregion: { id: 1 } }]);
  });

  it('-i adds a disabled region; without it the region is left out', async () => {
    await using f = await bootTools();
    await f.kernel.sysfs.write('/sys/bus/nd/drivers/nd_region/unbind', 'region0\n');
    await f.kernel.async.synchronizeFull();
    expect(await f.run(cmdList, '-R', '-r', 'region0')).toEqual(errOnly(''));
    expect(await f.json(cmdList, '-R', '-r', 'region0', '-i')).toEqual([{ ...region0, state: 'disabled' }]);
    await f.kernel.sysfs.write('/sys/bus/nd/drivers/nd_region/bind', 'region0\n');
    await f.kernel.async.synchronizeFull();
  });

  it('-M after an injected and scrubbed error: badblocks in region, raw, fsdax and devdax terms', async () => {
    await using f = await bootTools();
    await threeNamespaces(f);
    const k = f.kernel;
    const base = Number(read(k, 'region1', 'resource'));
    const fw0 = f.stack.nfitTest.instance('nfit_test.0').firmware;
    // In namespace1.0's device-dax data (which starts 2 MiB in), namespace1.1's pfn data (18 MiB in), and
    // raw namespace1.2 (32 MiB in).
    fw0.injectError(base + 2 * MiB + 4096, 512);
    fw0.injectError(base + 20 * MiB, 512);
    fw0.injectError(base + 32 * MiB + 8192, 512);
    f.stack.nfitTest
      .instance('nfit_test.1')
      .firmware.injectError(Number(read(k, 'region2', 'resource')) + MiB, 1024);
    await k.sysfs.write('/sys/bus/nd/devices/ndbus0/nfit/scrub', '1\n');
    await k.sysfs.write('/sys/bus/nd/devices/ndbus1/nfit/scrub', '1\n');
    expect(read(k, 'region1', 'badblocks')).toBe('4104 1\n40960 1\n65552 1');

    const regionBbs = [
      { offset: 4104, length: 1 },
      { offset: 40960, length: 1 },
      { offset: 65552, length: 1 },
    ];
    const io2Bbs = [{ offset: 2048, length: 2, dimms: ['nmem4'] }];
    // The count is shown without -M; a raw namespace counts and lists its whole region's badblocks, as
    // util_namespace_to_json() does.
    expect(await f.json(cmdList)).toEqual([
      io3,
      { ...io2, badblock_count: 2 },
      { ...raw, badblock_count: 3 },
      { ...fsdax, badblock_count: 1 },
      { ...devdax, badblock_count: 1 },
    ]);
    expect(await f.json(cmdList, '-M')).toEqual([
      io3,
      { ...io2, badblock_count: 2, badblocks: io2Bbs },
      { ...raw, badblock_count: 3, badblocks: regionBbs },
      { ...fsdax, badblock_count: 1, badblocks: [{ offset: 4096, length: 1 }] },
      { ...devdax, badblock_count: 1, badblocks: [{ offset: 8, length: 1 }] },
    ]);
    const regions = (await f.json(cmdList, '-R', '--media-errors')) as Record<string, unknown>[];
    expect(regions.map((r) => [r.dev, r.badblock_count, r.badblocks])).toEqual([
      ['region3', undefined, undefined],
      ['region2', 2, io2Bbs],
      ['region1', 3, regionBbs],
      ['region0', undefined, undefined],
    ]);
    const r = await f.run(cmdList, '-RM', '-r', 'region2');
    expect(r.out).toContain(`    "badblock_count":2,
    "badblocks":[
      {
        "offset":2048,
        "length":2,
        "dimms":[
          "nmem4"
        ]
      }
    ],
    "persistence_domain":"unknown"
`);
  });

  describe('filters', () => {
    it('-r by name, id or "all"; an unknown region prints nothing and succeeds', async () => {
      await using f = await bootTools();
      await threeNamespaces(f);
      expect(await f.json(cmdList, '-N', '-r', 'region1')).toEqual([raw, fsdax, devdax]);
      expect(await f.json(cmdList, '-N', '-r', '1')).toEqual([raw, fsdax, devdax]);
      expect(await f.json(cmdList, '-N', '-r', '0x1')).toEqual([raw, fsdax, devdax]);
      expect(await f.json(cmdList, '-N', '-r', 'region1 region2')).toEqual([io2, raw, fsdax, devdax]);
      expect(await f.json(cmdList, '-N', '-r', 'all')).toEqual([io3, io2, raw, fsdax, devdax]);
      expect(await f.run(cmdList, '-N', '-r', 'region9')).toEqual(errOnly(''));
      expect(await f.run(cmdList, '-r', '9')).toEqual(errOnly(''));
      // A filter alone lists its own kind.
      expect(((await f.json(cmdList, '-r', 'region2')) as { dev: string }[]).map((x) => x.dev)).toEqual([
        'region2',
      ]);
    });

    it('-n, -m and -t select namespaces by name, mode and region type', async () => {
      await using f = await bootTools();
      await threeNamespaces(f);
      expect(await f.json(cmdList, '-n', 'namespace1.1')).toEqual([fsdax]);
      expect(await f.json(cmdList, '-n', '1.2')).toEqual([raw]);
      expect(await f.json(cmdList, '-n', 'namespace1.1 3.0')).toEqual([io3, fsdax]);
      expect(await f.json(cmdList, '-m', 'devdax')).toEqual([devdax]);
      expect(await f.json(cmdList, '-m', 'dax')).toEqual([devdax]);
      expect(await f.json(cmdList, '-m', 'fsdax')).toEqual([fsdax]);
      expect(await f.json(cmdList, '-m', 'memory')).toEqual([fsdax]);
      expect(await f.json(cmdList, '-m', 'raw')).toEqual([io3, io2, raw]);
      expect(await f.run(cmdList, '-m', 'sector')).toEqual(errOnly(''));
      expect(await f.json(cmdList, '-t', 'pmem', '-N', '-r', '2')).toEqual([io2]);
      expect(await f.run(cmdList, '-t', 'blk')).toEqual(errOnly(''));
      expect(await f.run(cmdList, '-m', 'bogus')).toEqual(errOnly("  Error: invalid mode: 'bogus'\n\n", 234));
      expect(await f.run(cmdList, '-t', 'foo')).toEqual(
        errOnly('  Error: unknown type "foo" must be "pmem" or "blk"\n\n', 234),
      );
      expect(await f.run(cmdList, '-U', '0')).toEqual(
        errOnly('  Error: This system does not support NUMA\n', 234),
      );
    });

    it('-b and -d filter by bus and dimm, and alone list buses and dimms', async () => {
      await using f = await bootTools();
      await threeNamespaces(f);
      expect(await f.json(cmdList, '-b', 'nfit_test.1')).toEqual([
        { provider: 'nfit_test.1', dev: 'ndbus1', scrub_state: 'idle' },
      ]);
      expect(await f.json(cmdList, '-b', 'ndbus0', '-N')).toEqual([raw, fsdax, devdax]);
      expect(await f.json(cmdList, '-B', '-b', '0', '-N')).toEqual([
        { provider: 'nfit_test.0', dev: 'ndbus0', scrub_state: 'idle', namespaces: [raw, fsdax, devdax] },
      ]);
      expect(await f.json(cmdList, '-d', 'nmem4')).toEqual([nmem4]);
      expect(await f.json(cmdList, '-d', '4', '-N')).toEqual([io2]);
      expect(await f.json(cmdList, '-d', 'nmem3', '-N')).toEqual([raw, fsdax, devdax]);
      expect(await f.run(cmdList, '-d', 'nmem9')).toEqual(errOnly(''));
      // Mappings only of the filtered dimm.
      expect(await f.json(cmdList, '-RD', '-d', 'nmem0', '-r', '0')).toEqual({
        dimms: [{ dev: 'nmem0', handle: 0, phys_id: 0 }],
        regions: [{ ...region0, mappings: [{ dimm: 'nmem0', offset: 0, length: 16777216, position: 0 }] }],
      });
    });

    it('a stray argument is a usage error', async () => {
      await using f = await bootTools();
      const r = await f.run(cmdList, 'foo');
      expect(r.status).toBe(129);
      expect(r.out).toBe('');
      expect(r.err.startsWith('  Error: unknown parameter "foo"\n\n\n usage: ndctl list [<options>]\n')).toBe(
        true,
      );
    });
  });

  describe('nesting', () => {
    it('-B nests dimms, regions and namespaces in their bus', async () => {
      await using f = await bootTools();
      expect(await f.json(cmdList, '-BDRN', '-b', '1')).toEqual([
        {
          provider: 'nfit_test.1',
          dev: 'ndbus1',
          scrub_state: 'idle',
          dimms: [nmem4],
          regions: [
            { ...region3, namespaces: [io3] },
            { ...region2, mappings: region2Mappings, namespaces: [io2] },
          ],
        },
      ]);
      expect(await f.json(cmdList, '-Bu', '-b', '1')).toEqual({
        provider: 'nfit_test.1',
        dev: 'ndbus1',
        scrub_state: 'idle',
      });
    });

    it('-RN is a {"regions"} object only when the last region listed has namespaces, as list_display() decides', async () => {
      await using f = await bootTools();
      const plain = await f.json(cmdList, '-RN');
      expect(Array.isArray(plain)).toBe(true);
      expect((plain as { dev: string }[]).map((r) => r.dev)).toEqual([
        'region3',
        'region2',
        'region1',
        'region0',
      ]);
      await createNamespace(f.kernel, 'region0', { mode: 'raw', size: 16 * MiB, uuid: NS.raw.uuid });
      const wrapped = (await f.json(cmdList, '-RN')) as {
        regions: { dev: string; namespaces?: unknown[] }[];
      };
      expect(Object.keys(wrapped)).toEqual(['regions']);
      expect(wrapped.regions.map((r) => [r.dev, r.namespaces?.length])).toEqual([
        ['region3', 1],
        ['region2', 1],
        ['region1', undefined],
        ['region0', 1],
      ]);
      expect(await f.json(cmdList, '-DN', '-d', 'nmem4')).toEqual({ dimms: [nmem4], namespaces: [io2] });
    });

    it('-v adds numa_node, raw_uuid and media errors; -vv adds buses, dimms and regions', async () => {
      await using f = await bootTools();
      await threeNamespaces(f);
      expect(await f.json(cmdList, '-v', '-n', 'namespace1.1')).toEqual([
        { ...fsdax, raw_uuid: NS.fs.uuid, numa_node: 0 },
      ]);
      const vv = (await f.json(cmdList, '-vv', '-b', 'nfit_test.1')) as Record<string, unknown>[];
      expect(vv).toEqual([
        {
          provider: 'nfit_test.1',
          dev: 'ndbus1',
          scrub_state: 'idle',
          dimms: [nmem4],
          regions: [
            { ...region3, numa_node: 0, namespaces: [{ ...io3, numa_node: 0 }] },
            {
              ...region2,
              numa_node: 0,
              mappings: region2Mappings,
              namespaces: [{ ...io2, numa_node: 0 }],
            },
          ],
        },
      ]);
      // numa_node sits between type and the mappings.
      expect(Object.keys((vv[0]!.regions as Record<string, unknown>[])[1]!)).toEqual([
        'dev',
        'size',
        'available_size',
        'max_available_extent',
        'type',
        'numa_node',
        'mappings',
        'persistence_domain',
        'namespaces',
      ]);
    });
  });
});
