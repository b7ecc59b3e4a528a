/**
 * ndctl create-, destroy-, enable- and disable-namespace on the nfit_test platform: nfit_test.0 (region0, 2-way
 * 32 MiB; region1, 4-way 64 MiB; labelled) and nfit_test.1 (region2, a label-less 32 MiB namespace_io;
 * region3, a read-only 4 MiB namespace_io). libndctl walks buses and regions in reverse directory order, so an
 * unfiltered create lands on region1 first. Every failure is checked to leave sysfs exactly as it was.
 */
import { randomBytes } from 'node:crypto';
import { type Kernel, MAP_SHARED, O_RDONLY, O_RDWR, PROT_READ } from '@daxsim/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cmdCreateNamespace,
  cmdDestroyNamespace,
  cmdDisableNamespace,
  cmdEnableNamespace,
} from '../src/ndctl/namespace.js';
import { bound, read } from './setup_namespaces.js';
import { bootTools, errOnly, MiB, type ToolFixture } from './tool_fixture.js';

const ND = '/sys/bus/nd/devices';

/** Everything ndctl could change, as one string: every nd device's readable attributes and driver, the class devices. */
function sysfsState(k: Kernel): string {
  const lines: string[] = [];
  for (const dev of k.sysfs.readdir(ND)) {
    const vals: string[] = [];
    for (const a of [
      'size',
      'uuid',
      'alt_name',
      'mode',
      'holder',
      'namespace',
      'align',
      'force_raw',
      'available_size',
      'namespace_seed',
      'pfn_seed',
      'dax_seed',
      'available_slots',
    ]) {
      try {
        vals.push(`${a}=${k.sysfs.read(`${ND}/${dev}/${a}`).trim()}`);
      } catch {
        // absent, or unreadable in this state
      }
    }
    lines.push(`${dev} ${bound(k, dev) ? 'bound' : 'unbound'} ${vals.join(' ')}`);
  }
  for (const cls of ['block', 'dax']) lines.push(`${cls}: ${k.sysfs.readdir(`/sys/class/${cls}`).join(' ')}`);
  return lines.join('\n');
}

interface NsJson {
  dev: string;
  mode: string;
  map?: string;
  size: number;
  uuid?: string;
  name?: string;
  align?: number;
  blockdev?: string;
  chardev?: string;
}

/** validate_namespace_options()'s counted error for a size that is not a multiple of align * ways. */
const misaligned = (ways: number, align: number, suggest: string): string =>
  `  Error: create namespace: '--size=' must align to interleave-width: ${ways} and alignment: ${align}\n` +
  `did you intend --size=${suggest}?\n\n`;

async function create(f: ToolFixture, ...argv: string[]): Promise<NsJson> {
  return (await f.json(cmdCreateNamespace, ...argv)) as NsJson;
}

/** namespace0.0 (devdax) and namespace0.1 (fsdax), 16 MiB each, on region0. */
async function devdaxAndFsdax(f: ToolFixture): Promise<void> {
  await create(f, '-r', 'region0', '-m', 'devdax', '-s', '16M');
  await create(f, '-r', 'region0', '-m', 'fsdax', '-s', '16M');
}

/** Runs a command that must fail, checking that sysfs did not change; returns its status and stderr. */
async function failsCleanly(
  f: ToolFixture,
  cmd: typeof cmdCreateNamespace,
  ...argv: string[]
): Promise<{ status: number; err: string }> {
  const before = sysfsState(f.kernel);
  const r = await f.run(cmd, ...argv);
  expect(r.out).toBe('');
  expect(sysfsState(f.kernel)).toBe(before);
  return { status: r.status, err: r.err };
}

/** Writes `data` at `offset` of /dev/<disk> from a task. */
function writeDev(k: Kernel, path: string, offset: number, data: Uint8Array): void {
  const t = k.spawn('dd');
  const fd = t.open(path, O_RDWR);
  try {
    expect(t.pwrite(fd, data, offset)).toBe(data.length);
  } finally {
    t.close(fd);
    t.exit();
    k.reapTask(t);
  }
}

function readDev(k: Kernel, path: string, offset: number, len: number): Buffer {
  const t = k.spawn('dd');
  const fd = t.open(path, O_RDONLY);
  try {
    const buf = new Uint8Array(len);
    expect(t.pread(fd, buf, offset)).toBe(len);
    return Buffer.from(buf);
  } finally {
    t.close(fd);
    t.exit();
    k.reapTask(t);
  }
}

describe('create-namespace', () => {
  it('without options takes the first region with room (region1), in fsdax mode, over all its capacity', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    const r = await f.run(cmdCreateNamespace);
    expect(r.status).toBe(0);
    expect(r.err).toBe('');
    const ns = JSON.parse(r.out) as NsJson;
    expect(ns).toMatchObject({
      dev: 'namespace1.0',
      mode: 'fsdax',
      map: 'dev',
      align: 2 * MiB,
      blockdev: 'pmem1',
    });
    expect(r.out.endsWith('}\n')).toBe(true);
    expect(read(k, 'namespace1.0', 'size')).toBe(String(64 * MiB));
    expect(read(k, 'namespace1.0', 'holder')).toBe('pfn1.0');
    expect(read(k, 'pfn1.0', 'mode')).toBe('pmem');
    expect(read(k, 'pfn1.0', 'align')).toBe(String(2 * MiB));
    expect(bound(k, 'pfn1.0')).toBe(true);
    expect(read(k, 'region1', 'available_size')).toBe('0');
    expect(read(k, 'region1', 'namespace_seed')).toBe('namespace1.1');
    expect(read(k, 'region0', 'available_size')).toBe(String(32 * MiB));
  });

  it('-v tells why each region before the chosen one was passed over', async () => {
    await using f = await bootTools();
    const r = await f.run(cmdCreateNamespace, '-v', '-m', 'devdax');
    expect(r.status).toBe(0);
    expect(r.err).toBe(
      'validate_namespace_options:885: region3: insufficient capacity for mode: devdax\n' +
        'namespace_create:1030: region2: no idle namespace seed\n',
    );
    expect((JSON.parse(r.out) as NsJson).dev).toBe('namespace1.0');
  });

  it('-r -m devdax -a 4K -s 16M -n: a devdax namespace with that align, size and name', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    const ns = await create(f, '-r', 'region0', '-m', 'devdax', '-a', '4K', '-s', '16M', '-n', 'tiny');
    expect(ns).toMatchObject({
      dev: 'namespace0.0',
      mode: 'devdax',
      map: 'dev',
      align: 4096,
      chardev: 'dax0.0',
      name: 'tiny',
    });
    expect(read(k, 'namespace0.0', 'size')).toBe(String(16 * MiB));
    expect(read(k, 'namespace0.0', 'alt_name')).toBe('tiny');
    expect(read(k, 'namespace0.0', 'uuid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(read(k, 'dax0.0', 'align')).toBe('4096');
    expect(read(k, 'dax0.0', 'mode')).toBe('pmem');
    expect(read(k, 'dax0.0', 'namespace')).toBe('namespace0.0');
    expect(ns.uuid).toBe(read(k, 'dax0.0', 'uuid'));
    expect(k.sysfs.readdir('/sys/class/dax')).toEqual(['dax0.0']);
    expect(read(k, 'region0', 'available_size')).toBe(String(16 * MiB));
  });

  it('"memory" and "dax" (any case) are fsdax and devdax; -M mem puts the memmap in RAM; -u sets the uuid', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    const uuid = 'C0FFEE00-1111-4222-8333-444455556666';
    const a = await create(f, '-r', '0', '-m', 'fsdax', '-M', 'mem', '-s', '16M', '-u', uuid);
    expect(a).toMatchObject({ dev: 'namespace0.0', mode: 'fsdax', map: 'mem' });
    expect(read(k, 'namespace0.0', 'uuid')).toBe(uuid.toLowerCase());
    expect(read(k, 'pfn0.0', 'mode')).toBe('ram');
    const b = await create(f, '-r', 'region0', '-m', 'dax');
    expect(b).toMatchObject({ dev: 'namespace0.1', mode: 'devdax', map: 'dev', chardev: 'dax0.1' });
    expect(read(k, 'namespace0.1', 'size')).toBe(String(16 * MiB));
    await f.run(cmdDestroyNamespace, '-f', 'all', '-r', 'region0');
    expect(await create(f, '-r', 'region0', '-m', 'MEMORY')).toMatchObject({
      dev: 'namespace0.0',
      mode: 'fsdax',
    });
  });

  it('-m raw binds the namespace itself', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    const ns = await create(f, '-r', 'region1', '-m', 'raw', '-s', '8M');
    expect(ns).toMatchObject({ dev: 'namespace1.0', mode: 'raw', size: 8 * MiB, blockdev: 'pmem1' });
    expect(bound(k, 'namespace1.0')).toBe(true);
    expect(read(k, 'namespace1.0', 'holder')).toBe('');
  });

  it('several namespaces share a region until its capacity runs out', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    expect((await create(f, '-r', 'region1', '-m', 'devdax', '-s', '16M')).dev).toBe('namespace1.0');
    expect((await create(f, '-r', 'region1', '-m', 'fsdax', '-s', '16M')).dev).toBe('namespace1.1');
    expect((await create(f, '-r', 'region1', '-m', 'raw')).dev).toBe('namespace1.2');
    expect(['namespace1.0', 'namespace1.1', 'namespace1.2'].map((n) => read(k, n, 'size'))).toEqual([
      String(16 * MiB),
      String(16 * MiB),
      String(32 * MiB),
    ]);
    expect(['namespace1.0', 'namespace1.1', 'namespace1.2'].map((n) => read(k, n, 'mode'))).toEqual([
      'dax',
      'memory',
      'raw',
    ]);
    expect(read(k, 'region1', 'available_size')).toBe('0');
    const r = await failsCleanly(f, cmdCreateNamespace, '-r', 'region1', '-m', 'raw');
    expect(r).toEqual({ status: 237, err: 'failed to create namespace: No space left on device\n' });
  });

  it('-c creates one namespace in every region that has room and counts them', async () => {
    await using f = await bootTools();
    const r = await f.run(cmdCreateNamespace, '-c', '-m', 'devdax');
    expect(r.status).toBe(0);
    expect(r.err).toBe('created 2 namespaces\n');
    const devs = r.out.split(/\n(?=\{)/).map((j) => (JSON.parse(j) as NsJson).dev);
    expect(devs).toEqual(['namespace1.0', 'namespace0.0']);
  });

  it('reports ENOSPC when every region is full, and with no options at all the blk retry turns it into ENXIO', async () => {
    await using f = await bootTools();
    expect((await f.run(cmdCreateNamespace, '-c')).err).toBe('created 2 namespaces\n');
    expect(await failsCleanly(f, cmdCreateNamespace, '-m', 'fsdax')).toEqual({
      status: 237,
      err: 'failed to create namespace: No space left on device\n',
    });
    expect(await failsCleanly(f, cmdCreateNamespace)).toEqual({
      status: 237,
      err: 'failed to create namespace: No such device or address\n',
    });
  });

  it.each<[string[], number, string]>([
    [['-r', 'region0', '-s', '17M'], 234, misaligned(2, 2 * MiB, '20M')],
    [['-r', 'region1', '-m', 'devdax', '-s', '20M'], 234, misaligned(4, 2 * MiB, '24M')],
    [['-r', 'region1', '-m', 'raw', '-s', '4097'], 234, misaligned(4, 4096, '16384')],
    [
      ['-r', 'region0', '-m', 'devdax', '-s', '8M'],
      237,
      "  Error: '--size=' must be >= 16MiB for 'devdax' mode\n\nfailed to create namespace: Invalid argument\n",
    ],
    [
      ['-r', 'region0', '-m', 'devdax', '-a', '8k'],
      237,
      '  Error: unsupported align: 8k\n\nfailed to create namespace: No such device or address\n',
    ],
    [
      ['-r', 'region0', '-m', 'raw', '-a', '2M'],
      237,
      '  Error: raw mode does not support setting an alignment\n\nfailed to create namespace: No such device or address\n',
    ],
    [
      ['-r', 'region0', '-m', 'sector'],
      234,
      "  Error: create namespace: region0: does not support 'sector' mode\n\n",
    ],
    [['-r', 'region9'], 237, 'failed to create namespace: No such device or address\n'],
    [['-r', 'region1', '-s', '128M'], 237, 'failed to create namespace: No space left on device\n'],
    [
      ['-b', 'nfit_test.1', '-m', 'raw', '-r', 'region3'],
      237,
      'failed to create namespace: No space left on device\n',
    ],
  ])('create-namespace %j fails with %i and changes nothing', async (argv, status, err) => {
    await using f = await bootTools();
    expect(await failsCleanly(f, cmdCreateNamespace, ...argv)).toEqual({ status, err });
  });

  it.each<[string[], string]>([
    [['-m', 'foo'], "  Error: invalid mode 'foo'\n\n"],
    [['-t', 'nvme'], "  Error: invalid type 'nvme', must be either 'pmem' or 'blk'\n\n"],
    [['-M', 'disk'], "  Error: invalid map location 'disk'\n\n"],
    [['-m', 'raw', '-M', 'mem'], '  Error: --map only valid for an devdax mode pmem namespace\n\n'],
    [['-m', 'memory', '-M', 'mem'], '  Error: --map only valid for an devdax mode pmem namespace\n\n'],
    [['-a', '3K'], '  Error: align must be a power-of-2 greater than 4096\n\n'],
    [['-a', 'huge'], "  Error: failed to parse namespace alignment 'huge'\n\n"],
    [
      ['-s', '1Q'],
      "  Error: failed to parse namespace size '1Q'\n\n  Error: failed to parse namespace size '1Q'\n\n",
    ],
    [['-u', 'not-a-uuid'], "  Error: failed to parse uuid: 'not-a-uuid'\n\n"],
    [['-t', 'blk', '-m', 'devdax'], "  Error: only 'pmem' namespaces support dax operation\n\n"],
    [['region0'], '  Error: unknown extra parameter "region0"\n\n'],
  ])('create-namespace %j is a usage error (129)', async (argv, message) => {
    await using f = await bootTools();
    const r = await failsCleanly(f, cmdCreateNamespace, ...argv);
    expect(r.status).toBe(129);
    expect(r.err.startsWith(message)).toBe(true);
    expect(r.err.slice(message.length)).toMatch(/^\n usage: ndctl create-namespace \[<options>\]\n/);
    expect(r.err).toContain('    -e, --reconfig <reconfig namespace>');
  });

  it('does not round a default size: what is left must itself be a multiple of align * ways', async () => {
    await using f = await bootTools();
    await create(f, '-r', 'region0', '-m', 'raw', '-s', '2M');
    expect(await failsCleanly(f, cmdCreateNamespace, '-r', 'region0', '-m', 'fsdax')).toEqual({
      status: 234,
      err: misaligned(2, 2 * MiB, '33554432'),
    });
    expect((await failsCleanly(f, cmdCreateNamespace, '-r', 'region0', '-m', 'fsdax', '-a', '4K')).err).toBe(
      '  Error: namespace0.1 misaligned to 16M, adjust region alignment and retry\n\nfailed to create namespace: Invalid argument\n',
    );
    expect(await create(f, '-f', '-r', 'region0', '-m', 'fsdax', '-a', '4K')).toMatchObject({
      dev: 'namespace0.1',
      align: 4096,
    });
  });

  it('rolls a namespace that cannot start 16M-aligned back to an idle seed; -f accepts it', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await create(f, '-r', 'region1', '-m', 'fsdax', '-s', '24M');
    const r = await failsCleanly(f, cmdCreateNamespace, '-r', 'region1', '-m', 'fsdax', '-s', '24M');
    expect(r).toEqual({
      status: 237,
      err: '  Error: namespace1.1 misaligned to 16M, adjust region alignment and retry\n\nfailed to create namespace: Invalid argument\n',
    });
    expect(read(k, 'namespace1.1', 'size')).toBe('0');
    expect(read(k, 'namespace1.1', 'uuid')).toBe('');
    expect(read(k, 'region1', 'available_size')).toBe(String(40 * MiB));
    const ns = await create(f, '-f', '-r', 'region1', '-m', 'fsdax', '-s', '24M');
    expect(ns).toMatchObject({ dev: 'namespace1.1', mode: 'fsdax' });
    expect(read(k, 'namespace1.1', 'resource')).toBe(`0x${(0x1040000000 + 24 * MiB).toString(16)}`);
  });

  it('rolls back a seed whose size the kernel refuses (fragmented capacity): uuid and size are cleared', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    for (let i = 0; i < 3; i++) await create(f, '-r', 'region1', '-m', 'raw', '-s', '16M');
    expect(await f.run(cmdDestroyNamespace, '-f', 'namespace1.1')).toMatchObject({ status: 0 });
    expect(read(k, 'region1', 'available_size')).toBe(String(32 * MiB));
    expect(read(k, 'region1', 'namespace_seed')).toBe('namespace1.3');
    const r = await failsCleanly(f, cmdCreateNamespace, '-r', 'region1', '-m', 'raw', '-s', '32M');
    expect(r).toEqual({
      status: 228,
      err: '  Error: create namespace: namespace1.3: set_size failed: No space left on device\n\n',
    });
    expect(read(k, 'namespace1.3', 'uuid')).toBe('');
    expect((await create(f, '-r', 'region1', '-m', 'raw', '-s', '16M')).dev).toBe('namespace1.3');
  });

  it.each([
    ['devdax', 'ndctl_dax_enable: dax0.0'],
    ['fsdax', 'ndctl_pfn_enable: pfn0.0'],
  ])('undoes the claim, size and uuid when the %s device refuses to bind', async (mode, what) => {
    await using f = await bootTools();
    const k = f.kernel;
    k.faultInject.arm('kzalloc');
    const r = await failsCleanly(f, cmdCreateNamespace, '-r', 'region0', '-m', mode);
    k.faultInject.reset();
    expect(r).toEqual({
      status: 237,
      err: `libndctl: ${what}: failed to enable\n  Error: namespace0.0: failed to enable\n\nfailed to create namespace: No such device or address\n`,
    });
    expect(k.dmesg().some((l) => /probe of (dax|pfn)0\.0 failed with error -12/.test(l))).toBe(true);
    expect((await create(f, '-r', 'region0', '-m', mode)).dev).toBe('namespace0.0');
  });

  it('leaves the read-only region alone: no create, no reconfigure', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    const v = await failsCleanly(f, cmdCreateNamespace, '-v', '-r', 'region3', '-m', 'raw');
    expect(v).toEqual({
      status: 237,
      err:
        'namespace_create:1023: region3: read-only, ineligible for namespace creation\n' +
        'failed to create namespace: No space left on device\n',
    });
    const d = await failsCleanly(f, cmdCreateNamespace, '-r', 'region3', '-m', 'devdax');
    expect(d).toEqual({ status: 237, err: 'failed to create namespace: No space left on device\n' });
    const e = await failsCleanly(f, cmdCreateNamespace, '-f', '-e', 'namespace3.0', '-m', 'raw');
    expect(e).toEqual({
      status: 250,
      err: '  Error: namespace3.0: read-only, re-configuration disabled\n\nfailed to reconfigure namespace: No such device or address\n',
    });
    expect(bound(k, 'namespace3.0')).toBe(true);
  });
});

describe('create-namespace on the label-less namespace_io region', () => {
  it('has no idle seed while the io namespace is active', async () => {
    await using f = await bootTools();
    const r = await failsCleanly(f, cmdCreateNamespace, '-v', '-r', 'region2', '-m', 'raw');
    expect(r).toEqual({
      status: 237,
      err: 'namespace_create:1030: region2: no idle namespace seed\nfailed to create namespace: No space left on device\n',
    });
  });

  it('-f -e changes the io namespace mode in place; its size cannot be changed', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    const busy = await failsCleanly(f, cmdCreateNamespace, '-e', 'namespace2.0', '-m', 'devdax');
    expect(busy).toEqual({
      status: 240,
      err: '  Error: namespace2.0 is active, specify --force for re-configuration\n\nfailed to reconfigure namespace: Device or resource busy\n',
    });
    const sized = await failsCleanly(f, cmdCreateNamespace, '-f', '-e', 'namespace2.0', '-s', '16M');
    expect(sized).toEqual({
      status: 234,
      err:
        '  Error: Legacy / label-less namespaces do not support sub-dividing a region\n\n' +
        '  Error: Retry without -s/--size=\n\n' +
        'failed to reconfigure namespace: Invalid argument\n',
    });
    const ns = await create(f, '-f', '-e', 'namespace2.0', '-m', 'devdax');
    expect(ns).toMatchObject({ dev: 'namespace2.0', mode: 'devdax', chardev: 'dax2.0' });
    expect(read(k, 'namespace2.0', 'size')).toBe(String(32 * MiB));
    expect(read(k, 'namespace2.0', 'holder')).toBe('dax2.0');
    expect(read(k, 'namespace2.0', 'mode')).toBe('dax');
  });

  it('once disabled, the io namespace is the region seed create-namespace configures', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    expect(await f.run(cmdDisableNamespace, 'namespace2.0')).toEqual(errOnly('disabled 1 namespace\n'));
    const ns = await create(f, '-r', 'region2', '-m', 'fsdax');
    expect(ns).toMatchObject({ dev: 'namespace2.0', mode: 'fsdax', map: 'dev', blockdev: 'pmem2' });
    expect(read(k, 'namespace2.0', 'holder')).toBe('pfn2.0');
  });
});

describe('create-namespace -e', () => {
  it('reconfigures fsdax to devdax keeping size, name and data; the uuid is new, as ndctl generates one', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    const fsdax = await create(f, '-r', 'region0', '-m', 'fsdax', '-n', 'keep');
    expect(fsdax).toMatchObject({ dev: 'namespace0.0', mode: 'fsdax', blockdev: 'pmem0', name: 'keep' });
    const nsUuid = read(k, 'namespace0.0', 'uuid');
    const data = randomBytes(MiB + 4096);
    writeDev(k, '/dev/pmem0', 0, data);

    const devdax = await create(f, '-f', '-e', 'namespace0.0', '-m', 'devdax');
    expect(devdax).toMatchObject({ dev: 'namespace0.0', mode: 'devdax', chardev: 'dax0.0', name: 'keep' });
    expect(read(k, 'namespace0.0', 'size')).toBe(String(32 * MiB));
    expect(read(k, 'namespace0.0', 'alt_name')).toBe('keep');
    expect(read(k, 'namespace0.0', 'uuid')).not.toBe(nsUuid);
    expect(k.sysfs.readdir('/sys/class/block')).not.toContain('pmem0');

    const t = k.spawn('reader');
    const fd = t.open('/dev/dax0.0', O_RDONLY);
    const addr = t.mmap(0, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
    expect(Buffer.from(t.load(addr, data.length)).equals(data)).toBe(true);
    t.munmap(addr, 2 * MiB);
    t.close(fd);
    t.exit();
    k.reapTask(t);
  });

  it('keeps the align of a same-mode reconfigure unless -a is given, and takes -u and -n', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await create(f, '-r', 'region0', '-m', 'devdax', '-a', '4K');
    const again = await create(f, '-f', '-e', 'namespace0.0', '-M', 'mem');
    expect(again).toMatchObject({ dev: 'namespace0.0', mode: 'devdax', map: 'mem', align: 4096 });
    const uuid = '01234567-89ab-4cde-8f01-23456789abcd';
    await create(f, '-f', '-e', 'namespace0.0', '-a', '2M', '-u', uuid, '-n', 'renamed');
    expect(read(k, 'namespace0.0', 'uuid')).toBe(uuid);
    expect(read(k, 'namespace0.0', 'alt_name')).toBe('renamed');
    expect(read(k, read(k, 'namespace0.0', 'holder'), 'align')).toBe(String(2 * MiB));
  });

  it('of an unknown namespace fails with ENXIO', async () => {
    await using f = await bootTools();
    expect(await failsCleanly(f, cmdCreateNamespace, '-e', 'namespace7.7')).toEqual({
      status: 250,
      err: 'failed to reconfigure namespace: No such device or address\n',
    });
  });
});

describe('destroy-namespace', () => {
  it('refuses an active namespace without -f, and with -f returns its capacity', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await devdaxAndFsdax(f);
    expect(await failsCleanly(f, cmdDestroyNamespace, 'namespace0.1')).toEqual({
      status: 240,
      err:
        '  Error: namespace0.1 is active, specify --force for re-configuration\n\n' +
        'error destroying namespaces: Device or resource busy\n' +
        'destroyed 0 namespaces\n',
    });
    expect(await f.run(cmdDestroyNamespace, '-f', 'namespace0.1')).toEqual(
      errOnly('destroyed 1 namespace\n'),
    );
    expect(read(k, 'region0', 'available_size')).toBe(String(16 * MiB));
    expect(k.sysfs.exists(`${ND}/namespace0.1`)).toBe(false);
    expect(k.sysfs.readdir('/sys/class/block')).not.toContain('pmem0');
    expect(k.sysfs.readdir('/sys/class/dax')).toEqual(['dax0.0']);
  });

  it('all -r zeroes the info blocks it leaves behind: a raw namespace on the same capacity sees zeros', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await create(f, '-r', 'region0', '-m', 'devdax');
    expect(await f.run(cmdDestroyNamespace, 'all', '-r', 'region0', '-f')).toEqual(
      errOnly('destroyed 1 namespace\n'),
    );
    expect(read(k, 'namespace0.0', 'size')).toBe('0');
    expect(read(k, 'namespace0.0', 'uuid')).toBe('');
    expect(read(k, read(k, 'region0', 'dax_seed'), 'namespace')).toBe('');
    expect(k.sysfs.readdir(ND).filter((d) => d.startsWith('dax0.'))).toEqual([
      read(k, 'region0', 'dax_seed'),
    ]);
    expect(read(k, 'region0', 'available_size')).toBe(String(32 * MiB));
    const raw = await create(f, '-r', 'region0', '-m', 'raw');
    expect(raw).toMatchObject({ dev: 'namespace0.0', mode: 'raw', blockdev: 'pmem0' });
    expect(readDev(k, '/dev/pmem0', 0, 8192).equals(Buffer.alloc(8192))).toBe(true);
  });

  it('all -f skips the idle seeds, refuses the read-only region and leaves the io namespace disabled', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await create(f, '-r', 'region1', '-m', 'fsdax', '-s', '32M');
    await create(f, '-f', '-e', 'namespace2.0', '-m', 'devdax');
    const r = await f.run(cmdDestroyNamespace, 'all', '-f');
    expect(r).toEqual(
      errOnly('  Error: namespace3.0: read-only, re-configuration disabled\n\ndestroyed 2 namespaces\n'),
    );
    expect(read(k, 'region1', 'available_size')).toBe(String(64 * MiB));
    expect(bound(k, 'namespace2.0')).toBe(false);
    expect(read(k, 'namespace2.0', 'mode')).toBe('raw');
    expect(bound(k, 'namespace3.0')).toBe(true);
  });
});

describe('enable-namespace and disable-namespace', () => {
  it('disable releases the claim device; enable brings the namespace back through its info block', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await devdaxAndFsdax(f);
    expect(await f.run(cmdDisableNamespace, 'namespace0.0')).toEqual(errOnly('disabled 1 namespace\n'));
    expect(read(k, 'namespace0.0', 'holder')).toBe('');
    expect(read(k, 'namespace0.0', 'mode')).toBe('raw');
    expect(k.sysfs.readdir('/sys/class/dax')).toEqual([]);
    expect(await f.run(cmdEnableNamespace, 'namespace0.0')).toEqual(errOnly('enabled 1 namespace\n'));
    expect(read(k, 'namespace0.0', 'mode')).toBe('dax');
    const claim = read(k, 'namespace0.0', 'holder');
    expect(bound(k, claim)).toBe(true);
    expect(k.sysfs.readdir('/sys/class/dax')).toEqual(['dax0.0']);
  });

  it('"all" counts every namespace that has capacity, enabled or not', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    const enabled = () => ['namespace0.0', 'namespace2.0', 'namespace3.0'].map((n) => bound(k, n));
    await create(f, '-r', 'region0', '-m', 'raw');
    expect(await f.run(cmdDisableNamespace, 'all')).toEqual(errOnly('disabled 3 namespaces\n'));
    expect(enabled()).toEqual([false, false, false]);
    expect(await f.run(cmdDisableNamespace, 'all', '-r', 'region0')).toEqual(
      errOnly('disabled 1 namespace\n'),
    );
    expect(await f.run(cmdEnableNamespace, 'all')).toEqual(errOnly('enabled 3 namespaces\n'));
    expect(enabled()).toEqual([true, true, true]);
    expect(await f.run(cmdEnableNamespace, 'all', '-b', 'nfit_test.0')).toEqual(
      errOnly('enabled 1 namespace\n'),
    );
  });
});

describe('the namespace argument of destroy-, enable- and disable-namespace', () => {
  it.each([
    ['destroy', cmdDestroyNamespace, 'destroying', 'destroyed'],
    ['enable', cmdEnableNamespace, 'enabling', 'enabled'],
    ['disable', cmdDisableNamespace, 'disabling', 'disabled'],
  ] as const)(
    '%s-namespace: none or two is usage (129); an unknown one is ENXIO, nothing counted',
    async (action, cmd, verb, past) => {
      await using f = await bootTools();
      const u = await failsCleanly(f, cmd);
      expect(u.status).toBe(129);
      const usage = `\n usage: ndctl ${action}-namespace <namespace> [<options>]\n`;
      expect(u.err.startsWith(`  Error: specify a namespace to ${action}, or "all"\n\n${usage}`)).toBe(true);
      expect(u.err.includes('    -f, --force')).toBe(action === 'destroy');
      expect(await failsCleanly(f, cmd, 'namespace9.9')).toEqual({
        status: 250,
        err: `error ${verb} namespaces: No such device or address\n${past} 0 namespaces\n`,
      });
      const extra = await failsCleanly(f, cmd, 'namespace0.0', 'namespace1.0');
      expect(extra.status).toBe(129);
      expect(extra.err.startsWith('  Error: unknown extra parameter "namespace1.0"\n')).toBe(true);
    },
  );
});

describe('region capacity bookkeeping (property)', () => {
  it('creates and destroys in any order keep available_size = size - allocated, and failures change nothing', async () => {
    const step = fc.oneof(
      fc.record({
        op: fc.constant('create' as const),
        size: fc.constantFrom('8M', '16M', '17M', '24M', '32M', '40M', '64M', '72M'),
        mode: fc.constantFrom('raw', 'fsdax', 'devdax'),
      }),
      fc.record({ op: fc.constant('destroy' as const), pick: fc.nat(7) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        await using f = await bootTools();
        const k = f.kernel;
        const sizes = new Map<string, number>();
        for (const s of steps) {
          const before = sysfsState(k);
          if (s.op === 'create') {
            const r = await f.run(cmdCreateNamespace, '-f', '-r', 'region1', '-m', s.mode, '-s', s.size);
            if (r.status === 0) {
              const dev = (JSON.parse(r.out) as NsJson).dev;
              sizes.set(dev, Number(read(k, dev, 'size')));
              expect(Number(read(k, dev, 'size'))).toBe(Number.parseInt(s.size, 10) * MiB);
            } else expect(sysfsState(k)).toBe(before);
          } else {
            const names = [...sizes.keys()];
            if (names.length === 0) continue;
            const dev = names[s.pick % names.length]!;
            const r = await f.run(cmdDestroyNamespace, '-f', dev);
            expect(r).toEqual(errOnly('destroyed 1 namespace\n'));
            sizes.delete(dev);
          }
          const used = [...sizes.values()].reduce((a, b) => a + b, 0);
          expect(Number(read(k, 'region1', 'available_size'))).toBe(64 * MiB - used);
        }
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});
