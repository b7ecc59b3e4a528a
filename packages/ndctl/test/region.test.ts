/**
 * ndctl enable-region and disable-region on the nfit_test platform (region0/1 on nfit_test.0, region2/3 on
 * nfit_test.1): counts on stderr, filters, usage errors, and namespaces that come back from their labels and
 * info blocks when their region is enabled again.
 */
import { type Kernel, MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import { describe, expect, it } from 'vitest';
import { cmdCreateNamespace } from '../src/ndctl/namespace.js';
import { cmdDisableRegion, cmdEnableRegion } from '../src/ndctl/region.js';
import { bound, read } from './setup_namespaces.js';
import { bootTools, errOnly, MiB } from './tool_fixture.js';

const ND = '/sys/bus/nd/devices';
const children = (k: Kernel, region: string): string[] =>
  k.sysfs.readdir(`${ND}/${region}`).filter((d) => /^(namespace|pfn|dax|btt)\d/.test(d));
const regions = ['region0', 'region1', 'region2', 'region3'];

describe('disable-region / enable-region', () => {
  it('disables a region with active namespaces and brings them back, data and all, when enabled', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    const dax = JSON.parse(
      (await f.run(cmdCreateNamespace, '-r', 'region0', '-m', 'devdax', '-s', '16M')).out,
    );
    const fsdax = JSON.parse(
      (await f.run(cmdCreateNamespace, '-r', 'region0', '-m', 'fsdax', '-s', '16M')).out,
    );
    expect([dax.dev, dax.chardev, fsdax.dev, fsdax.blockdev]).toEqual([
      'namespace0.0',
      'dax0.0',
      'namespace0.1',
      'pmem0.1',
    ]);

    const t = k.spawn('writer');
    let fd = t.open('/dev/dax0.0', O_RDWR);
    let addr = t.mmap(0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    t.store(addr + 4096, new Uint8Array([1, 2, 3, 4]));
    t.munmap(addr, 2 * MiB);
    t.close(fd);

    expect(await f.run(cmdDisableRegion, 'region0')).toEqual(errOnly('disabled 1 region\n'));
    expect(bound(k, 'region0')).toBe(false);
    expect(children(k, 'region0')).toEqual([]);
    expect(k.sysfs.readdir('/sys/class/dax')).toEqual([]);
    expect(k.sysfs.readdir('/sys/class/block')).toEqual(['pmem2', 'pmem3']);
    expect(bound(k, 'region1')).toBe(true);

    expect(await f.run(cmdEnableRegion, 'region0')).toEqual(errOnly('enabled 1 region\n'));
    expect(bound(k, 'region0')).toBe(true);
    expect(read(k, 'region0', 'available_size')).toBe('0');
    expect([read(k, 'namespace0.0', 'mode'), read(k, 'namespace0.1', 'mode')]).toEqual(['dax', 'memory']);
    expect(bound(k, read(k, 'namespace0.0', 'holder'))).toBe(true);
    expect(bound(k, read(k, 'namespace0.1', 'holder'))).toBe(true);
    expect(k.sysfs.readdir('/sys/class/dax')).toEqual(['dax0.0']);

    fd = t.open('/dev/dax0.0', O_RDWR);
    addr = t.mmap(0, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
    expect(t.load(addr + 4096, 4)).toEqual(new Uint8Array([1, 2, 3, 4]));
    t.munmap(addr, 2 * MiB);
    t.close(fd);
    t.exit();
    k.reapTask(t);
  });

  it('"all" counts every region; enabling what is enabled counts too', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    expect(await f.run(cmdEnableRegion, 'all')).toEqual(errOnly('enabled 4 regions\n'));
    expect(await f.run(cmdDisableRegion, 'all')).toEqual(errOnly('disabled 4 regions\n'));
    expect(regions.map((r) => bound(k, r))).toEqual([false, false, false, false]);
    expect(await f.run(cmdDisableRegion, 'all')).toEqual(errOnly('disabled 4 regions\n'));
    expect(await f.run(cmdEnableRegion, 'all')).toEqual(errOnly('enabled 4 regions\n'));
    expect(regions.map((r) => bound(k, r))).toEqual([true, true, true, true]);
    expect(bound(k, 'namespace2.0')).toBe(true);
    expect(bound(k, 'namespace3.0')).toBe(true);
  });

  it('filters by bus (id, provider or name), region id or name, and type', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    expect(await f.run(cmdDisableRegion, '-b', 'nfit_test.1', 'all')).toEqual(
      errOnly('disabled 2 regions\n'),
    );
    expect(regions.map((r) => bound(k, r))).toEqual([true, true, false, false]);
    expect(await f.run(cmdEnableRegion, '-b', '1', '2')).toEqual(errOnly('enabled 1 region\n'));
    expect(await f.run(cmdEnableRegion, '-b', 'ndbus0', 'region3')).toEqual(errOnly('enabled 0 regions\n'));
    expect(await f.run(cmdEnableRegion, '-t', 'pmem', 'region3')).toEqual(errOnly('enabled 1 region\n'));
    expect(await f.run(cmdDisableRegion, '-t', 'blk', 'all')).toEqual(errOnly('disabled 0 regions\n'));
    expect(await f.run(cmdDisableRegion, 'region7')).toEqual(errOnly('disabled 0 regions\n'));
    expect(regions.map((r) => bound(k, r))).toEqual([true, true, true, true]);
  });

  it.each<[string[], string]>([
    [[], '  Error: specify a specific region id to act on, or "all"\n\n'],
    [['region0', 'region1'], '  Error: unknown extra parameter "region1"\n\n'],
    [['-t', 'nvdimm', 'all'], "  Error: unknown region type 'nvdimm', should be 'pmem' or 'blk'\n\n"],
  ])('%j is a usage error (129) and changes nothing', async (argv, message) => {
    await using f = await bootTools();
    const k = f.kernel;
    for (const cmd of [cmdEnableRegion, cmdDisableRegion]) {
      const r = await f.run(cmd, ...argv);
      expect(r.status).toBe(129);
      expect(r.out).toBe('');
      expect(r.err.startsWith(message)).toBe(true);
      const name = cmd === cmdEnableRegion ? 'enable' : 'disable';
      expect(r.err.slice(message.length)).toMatch(
        new RegExp(`^\\n usage: ndctl ${name}-region <region> \\[<options>\\]\\n`),
      );
      expect(r.err).toContain('    -t, --type <region-type>');
    }
    expect(regions.map((r) => bound(k, r))).toEqual([true, true, true, true]);
  });
});
