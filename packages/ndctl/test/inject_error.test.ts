/**
 * `ndctl inject-error` and `ndctl clear-errors` over nfit_test: errors injected through the NFIT bus's
 * ND_CMD_CALL error-injection functions on /dev/ndctlN, found by the scrub the notification starts, listed as
 * namespace media errors, and cleared through ND_CMD_CLEAR_ERROR; the kernel's region and disk badblocks agree
 * with the firmware afterwards.
 */
import { describe, expect, it } from 'vitest';
import { cmdStartScrub } from '../src/ndctl/bus.js';
import { cmdClearErrors } from '../src/ndctl/clear_errors.js';
import { cmdInjectError } from '../src/ndctl/inject_error.js';
import { cmdList } from '../src/ndctl/list.js';
import { blockDevice, createNamespace, holder, read } from './setup_namespaces.js';
import { bootTools, errOnly, MiB, pretty, type ToolFixture } from './tool_fixture.js';

const DAX_UUID = 'bbbbbbbb-0000-4000-8000-0000000000d1';

const WARNING =
  "Warning: Un-injecting previously injected errors here will\nnot cause the kernel to 'forget' its badblock entries. Those\nhave to be cleared through the normal process of writing\nthe affected blocks\n\n";

const injected = (f: ToolFixture, provider: string) =>
  f.stack.nfitTest.instance(provider).firmware.injectedErrors();

const sysfs = (f: ToolFixture, path: string) => f.kernel.sysfs.read(path);

/** The namespace as `ndctl list -n <ns>` shows it (no media errors). */
async function listed(f: ToolFixture, ns: string): Promise<Record<string, unknown>> {
  const [one] = (await f.json(cmdList, '-n', ns)) as Array<Record<string, unknown>>;
  return one!;
}

/** A 16 MiB devdax namespace (4 KiB align) on region0; its dax data start and the region's start. */
async function devdax(f: ToolFixture): Promise<{ data: number; region: number }> {
  const k = f.kernel;
  await createNamespace(k, 'region0', { mode: 'devdax', size: 16 * MiB, align: 4096, claimUuid: DAX_UUID });
  return {
    data: Number(read(k, holder(k, 'namespace0.0')!, 'resource')),
    region: Number(read(k, 'region0', 'resource')),
  };
}

describe('ndctl inject-error', () => {
  it('injects into a devdax namespace, waits for the scrub, and shows the new media errors', async () => {
    await using f = await bootTools();
    const { data, region } = await devdax(f);
    const base = await listed(f, 'namespace0.0');
    expect(base).toMatchObject({ dev: 'namespace0.0', mode: 'devdax', uuid: DAX_UUID, chardev: 'dax0.0' });
    const r = await f.run(cmdInjectError, 'namespace0.0', '-B', '8', '-n', '2');
    expect(r).toEqual({
      status: 0,
      out: pretty({ ...base, badblock_count: 2, badblocks: [{ offset: 8, length: 2 }] }),
      err: '',
    });
    // one clear_err_unit (256 bytes) per block, found by the rescan the notification started
    expect(injected(f, 'nfit_test.0')).toEqual([
      { address: data + 8 * 512, length: 256 },
      { address: data + 9 * 512, length: 256 },
    ]);
    const sector = (data - region) / 512 + 8;
    expect(sysfs(f, '/sys/bus/nd/devices/region0/badblocks')).toBe(`${sector} 2\n`);
    expect(sysfs(f, '/sys/bus/nd/devices/ndbus0/nfit/scrub')).toBe('2\n');
    expect(await f.run(cmdInjectError, '--status', 'namespace0.0')).toEqual({
      status: 0,
      out: pretty({ badblocks: [{ block: 8, count: 2 }] }),
      err: '',
    });
  });

  it('un-injects with -d: the firmware forgets, the kernel keeps its badblocks', async () => {
    await using f = await bootTools();
    const { data, region } = await devdax(f);
    const base = await listed(f, 'namespace0.0');
    await f.run(cmdInjectError, 'namespace0.0', '-B', '8', '-n', '2');
    expect(await f.run(cmdInjectError, '--uninject', '-B', '8', '-n', '1', 'namespace0.0')).toEqual({
      status: 0,
      out: `${WARNING}${pretty({ ...base, badblock_count: 2, badblocks: [{ offset: 8, length: 2 }] })}`,
      err: '',
    });
    expect(injected(f, 'nfit_test.0')).toEqual([{ address: data + 9 * 512, length: 256 }]);
    expect(sysfs(f, '/sys/bus/nd/devices/region0/badblocks')).toBe(`${(data - region) / 512 + 8} 2\n`);
    expect((await f.run(cmdInjectError, '-t', '-u', 'namespace0.0')).out).toBe(
      pretty({ badblocks: [{ block: '0x9', count: '0x1' }] }),
    );
    await f.run(cmdInjectError, '-d', '-B', '9', '-n', '1', 'namespace0.0');
    expect(await f.run(cmdInjectError, '-t', 'namespace0.0')).toEqual(errOnly(''));
  });

  it('-N skips the notification (no scrub), -S injects whole blocks; a later scrub finds them', async () => {
    await using f = await bootTools();
    const base = await listed(f, 'namespace2.0');
    const res = Number(read(f.kernel, 'namespace2.0', 'resource'));
    expect(await f.run(cmdInjectError, '-N', '-S', '-B', '4', '-n', '1', 'namespace2.0')).toEqual({
      status: 0,
      out: pretty(base),
      err: '',
    });
    expect(injected(f, 'nfit_test.1')).toEqual([{ address: res + 2048, length: 512 }]);
    expect(sysfs(f, '/sys/bus/nd/devices/ndbus1/nfit/scrub')).toBe('1\n');
    expect(sysfs(f, '/sys/bus/nd/devices/region2/badblocks')).toBe('');
    await f.run(cmdStartScrub, 'nfit_test.1');
    expect(sysfs(f, '/sys/bus/nd/devices/region2/badblocks')).toBe('4 1\n');
    expect(sysfs(f, '/sys/block/pmem2/badblocks')).toBe('4 1\n');
  });

  it('reports option errors as inject_init() does (-EINVAL, exit 234) and usage problems (129)', async () => {
    await using f = await bootTools();
    const run = (...a: string[]) => f.run(cmdInjectError, ...a);
    const einval = (msg: string) => ({ status: 234, out: '', err: `  Error: ${msg}\n\n` });
    expect(await run('-t', '-B', '1', 'namespace2.0')).toEqual(
      einval('status is invalid with inject or uninject'),
    );
    expect(await run('-d', '-t', 'namespace2.0')).toEqual(
      einval('status is invalid with inject or uninject'),
    );
    expect(await run('-B', '1', 'namespace2.0')).toEqual(
      einval('block and count required for inject/uninject'),
    );
    expect(await run('-B', 'zz', '-n', '1', 'namespace2.0')).toEqual(einval('Invalid block: zz'));
    expect(await run('-B', '1', '-n', '-1', 'namespace2.0')).toEqual(einval('Invalid count: -1'));
    const usage = await run('-B', '1', '-n', '1');
    expect(usage.status).toBe(129);
    expect(usage.err).toMatch(
      /^ {2}Error: specify a namespace to inject error to\n\n\n usage: ndctl inject-error <namespace>/,
    );
    const extra = await run('-B', '1', '-n', '1', 'namespace2.0', 'namespace3.0');
    expect(extra.status).toBe(129);
    expect(extra.err).toMatch(/^ {2}Error: unknown extra parameter "namespace3.0"\n\n\n usage:/);
    expect(injected(f, 'nfit_test.1')).toEqual([]);
  });

  it('fails ENXIO for an unknown (or filtered out) namespace and EINVAL past the namespace end', async () => {
    await using f = await bootTools();
    const missing = { status: 250, out: '', err: '  Error: namespace9.9: no such namespace\n\n' };
    expect(await f.run(cmdInjectError, '-B', '1', '-n', '1', 'namespace9.9')).toEqual(missing);
    expect(await f.run(cmdInjectError, '-r', 'region3', '-B', '1', '-n', '1', 'namespace2.0')).toEqual({
      ...missing,
      err: '  Error: namespace2.0: no such namespace\n\n',
    });
    expect(await f.run(cmdInjectError, '-B', '65535', '-n', '2', 'namespace2.0')).toEqual(
      errOnly(
        'libndctl: ndctl_namespace_inject_error2: Injection failed at block 10000\nUnable to inject error: Invalid argument (-22)\n',
        234,
      ),
    );
    // the first block (65535, the namespace's last) went in before the second failed
    const res = Number(read(f.kernel, 'namespace2.0', 'resource'));
    expect(injected(f, 'nfit_test.1')).toEqual([{ address: res + 65535 * 512, length: 256 }]);
  });
});

describe('ndctl clear-errors', () => {
  it("clears a devdax namespace's media errors: firmware, region badblocks and poison agree", async () => {
    await using f = await bootTools();
    await devdax(f);
    const base = await listed(f, 'namespace0.0');
    await f.run(cmdInjectError, 'namespace0.0', '-B', '8', '-n', '2');
    expect(f.kernel.physmem.poisonRanges()).not.toEqual([]);
    expect(await f.run(cmdClearErrors, 'namespace0.0')).toEqual({
      status: 0,
      out: pretty(base),
      err: 'cleared 1 namespace\n',
    });
    expect(sysfs(f, '/sys/bus/nd/devices/region0/badblocks')).toBe('');
    expect(injected(f, 'nfit_test.0')).toEqual([]);
    expect(f.kernel.physmem.poisonRanges()).toEqual([]);
    await f.run(cmdStartScrub, 'nfit_test.0');
    expect(sysfs(f, '/sys/bus/nd/devices/region0/badblocks')).toBe('');
  });

  it('--scrub finds latent errors first; the re-enabled disk has no badblocks left', async () => {
    await using f = await bootTools();
    const base = await listed(f, 'namespace2.0');
    await f.run(cmdInjectError, '-N', '-B', '100', '-n', '3', 'namespace2.0');
    expect(await f.run(cmdClearErrors, '-s', 'namespace2.0')).toEqual({
      status: 0,
      out: pretty(base),
      err: 'cleared 1 namespace\n',
    });
    expect(sysfs(f, '/sys/bus/nd/devices/ndbus1/nfit/scrub')).toBe('2\n');
    expect(sysfs(f, '/sys/bus/nd/devices/region2/badblocks')).toBe('');
    expect(sysfs(f, '/sys/block/pmem2/badblocks')).toBe('');
    expect(injected(f, 'nfit_test.1')).toEqual([]);
  });

  it("clears an fsdax namespace: the pmem disk's badblocks follow", async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await createNamespace(k, 'region1', { mode: 'fsdax', size: 32 * MiB, align: 4096 });
    const disk = blockDevice(k, holder(k, 'namespace1.0')!);
    const r = await f.run(cmdInjectError, '-B', '5', '-n', '1', 'namespace1.0');
    expect(JSON.parse(r.out)).toMatchObject({ badblock_count: 1, badblocks: [{ offset: 5, length: 1 }] });
    expect(sysfs(f, `/sys/block/${disk}/badblocks`)).toBe('5 1\n');
    const c = await f.run(cmdClearErrors, '-r', 'region1', 'all');
    expect(c.status).toBe(0);
    expect(c.err).toBe('cleared 1 namespace\n');
    expect(JSON.parse(c.out)).not.toHaveProperty('badblocks');
    expect(sysfs(f, `/sys/block/${blockDevice(k, holder(k, 'namespace1.0')!)}/badblocks`)).toBe('');
    expect(sysfs(f, '/sys/bus/nd/devices/region1/badblocks')).toBe('');
  });

  it('all skips idle seeds; an unknown namespace is ENXIO; no argument is usage', async () => {
    await using f = await bootTools();
    const all = await f.run(cmdClearErrors, 'all');
    expect(all.status).toBe(0);
    expect(all.err).toBe('cleared 2 namespaces\n');
    expect(all.out).toBe(
      `${pretty(await listed(f, 'namespace3.0'))}${pretty(await listed(f, 'namespace2.0'))}`,
    );
    expect(await f.run(cmdClearErrors, 'namespace7.7')).toEqual(
      errOnly('error clearing namespaces: No such device or address\ncleared 0 namespaces\n', 250),
    );
    const u = await f.run(cmdClearErrors);
    expect(u.status).toBe(129);
    expect(u.err).toMatch(
      /^ {2}Error: specify a namespace to clear errors for, or "all"\n\n\n usage: ndctl clear_errors/,
    );
  });
});
