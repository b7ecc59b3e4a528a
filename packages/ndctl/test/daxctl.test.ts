/**
 * daxctl list, enable-device and disable-device over devdax namespaces made by create-namespace: the JSON
 * shapes daxctl prints on a dax-class kernel, the filters, and disable/enable modeled on the nd dax claim device
 * (a mapped device goes away under its user, who gets SIGBUS).
 */
import { MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import { describe, expect, it } from 'vitest';
import { cmdDisableDevice, cmdEnableDevice } from '../src/daxctl/device.js';
import { cmdDaxctlList } from '../src/daxctl/list.js';
import { daxctlDevFilter, daxctlDevs, daxctlRegionFilter, daxctlRegions } from '../src/lib/libdaxctl.js';
import { createDevdax, driverOf, read } from './setup_namespaces.js';
import { bootTools, errOnly, MiB, type ToolFixture } from './tool_fixture.js';

/** Two devdax namespaces: 16 MiB at 4K in region0 (dax0.0), 32 MiB at 2M in region1 (dax1.0). */
async function twoDevices(f: ToolFixture) {
  const a = await createDevdax(f, 'region0', '-s', '16M', '-a', '4K');
  const b = await createDevdax(f, 'region1', '-s', '32M', '-a', '2M');
  return { a, b };
}

const DEV0 = { chardev: 'dax0.0', size: 14 * MiB, mode: 'devdax' };
const DEV1 = { chardev: 'dax1.0', size: 30 * MiB, mode: 'devdax' };
const REGION0 = { path: '/platform/nfit_test.0/ndbus0/region0/dax0.0', id: 0, size: 14 * MiB, align: 4096 };
const REGION1 = {
  path: '/platform/nfit_test.0/ndbus0/region1/dax1.0',
  id: 1,
  size: 30 * MiB,
  align: 2 * MiB,
};

describe('daxctl list', () => {
  it('lists devices by default, in json-c pretty format', async () => {
    await using f = await bootTools();
    await twoDevices(f);
    const r = await f.run(cmdDaxctlList);
    expect(r).toEqual({
      status: 0,
      err: '',
      out:
        '[\n  {\n    "chardev":"dax0.0",\n    "size":14680064,\n    "mode":"devdax"\n  },\n' +
        '  {\n    "chardev":"dax1.0",\n    "size":31457280,\n    "mode":"devdax"\n  }\n]\n',
    });
    expect(await f.json(cmdDaxctlList, '-D')).toEqual([DEV0, DEV1]);
  });

  it('-R lists regions {path, id, size, align}; -R -D nests the devices', async () => {
    await using f = await bootTools();
    await twoDevices(f);
    expect(await f.json(cmdDaxctlList, '-R')).toEqual([REGION0, REGION1]);
    expect(await f.json(cmdDaxctlList, '--regions', '--devices')).toEqual([
      { ...REGION0, devices: [DEV0] },
      { ...REGION1, devices: [DEV1] },
    ]);
    expect((await f.run(cmdDaxctlList, '-R')).out).toContain(
      '"path":"\\/platform\\/nfit_test.0\\/ndbus0\\/region0\\/dax0.0"',
    );
  });

  it('-r alone implies -R, -d alone implies -D; both filters combine', async () => {
    await using f = await bootTools();
    await twoDevices(f);
    expect(await f.json(cmdDaxctlList, '-r', '1')).toEqual([REGION1]);
    expect(await f.json(cmdDaxctlList, '-r', 'region0')).toEqual([REGION0]);
    expect(await f.json(cmdDaxctlList, '-d', 'dax1.0')).toEqual([DEV1]);
    expect(await f.json(cmdDaxctlList, '-d', '0.0')).toEqual([DEV0]);
    expect(await f.json(cmdDaxctlList, '-d', 'all')).toEqual([DEV0, DEV1]);
    expect(await f.json(cmdDaxctlList, '-D', '-r', '0')).toEqual([DEV0]);
    expect(await f.json(cmdDaxctlList, '-R', '-D', '-d', 'dax1.0')).toEqual([
      REGION0,
      { ...REGION1, devices: [DEV1] },
    ]);
    expect(await f.run(cmdDaxctlList, '-r', '7')).toEqual(errOnly(''));
    expect(await f.run(cmdDaxctlList, '-d', 'dax9.9')).toEqual(errOnly(''));
  });

  it('-u prints human sizes, and a lone object without the array', async () => {
    await using f = await bootTools();
    await twoDevices(f);
    expect(await f.run(cmdDaxctlList, '-u', '-d', 'dax0.0')).toEqual({
      status: 0,
      err: '',
      out: '{\n  "chardev":"dax0.0",\n  "size":"14.00 MiB (14.68 MB)",\n  "mode":"devdax"\n}\n',
    });
    expect(await f.json(cmdDaxctlList, '-u')).toEqual([
      { ...DEV0, size: '14.00 MiB (14.68 MB)' },
      { ...DEV1, size: '30.00 MiB (31.46 MB)' },
    ]);
    expect(await f.json(cmdDaxctlList, '-R', '-u', '-r', '1')).toEqual({
      ...REGION1,
      size: '30.00 MiB (31.46 MB)',
    });
  });

  it('prints nothing without devices; rejects operands and unknown options', async () => {
    await using f = await bootTools();
    expect(await f.run(cmdDaxctlList)).toEqual(errOnly(''));
    expect(await f.run(cmdDaxctlList, '-R', '-i')).toEqual(errOnly(''));
    const r = await f.run(cmdDaxctlList, 'dax0.0');
    expect(r.status).toBe(129);
    expect(r.out).toBe('');
    expect(
      r.err.startsWith('  Error: unknown parameter "dax0.0"\n\n\n usage: daxctl list [<options>]\n'),
    ).toBe(true);
    const bad = await f.run(cmdDaxctlList, '--frob');
    expect(bad.status).toBe(129);
    expect(bad.err.startsWith("  Error: unknown option `frob'\n")).toBe(true);
  });
});

describe('daxctl disable-device / enable-device', () => {
  it('disables a device (its claim loses dax_pmem), which list -i shows as disabled; enable brings it back', async () => {
    await using f = await bootTools();
    const { a } = await twoDevices(f);
    const k = f.kernel;
    const t = k.spawn('writer');
    const fd = t.open('/dev/dax0.0', O_RDWR);
    const addr = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    t.store(addr + 100, new Uint8Array([7, 8, 9]));
    t.exit();

    expect(await f.run(cmdDisableDevice, 'dax0.0')).toEqual(errOnly('disabled 1 device\n'));
    expect(driverOf(k, a.claim)).toBe(null);
    expect(k.sysfs.exists('/sys/class/dax/dax0.0')).toBe(false);
    expect(() => k.spawn('x').open('/dev/dax0.0', O_RDWR)).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
    expect(await f.json(cmdDaxctlList)).toEqual([DEV1]);
    expect(await f.json(cmdDaxctlList, '-i')).toEqual([
      { chardev: 'dax0.0', size: 0, mode: 'devdax', state: 'disabled' },
      DEV1,
    ]);
    expect(await f.json(cmdDaxctlList, '-i', '-d', 'dax0.0')).toEqual([
      { chardev: 'dax0.0', size: 0, mode: 'devdax', state: 'disabled' },
    ]);
    expect(await f.json(cmdDaxctlList, '-R', '-D', '-i')).toEqual([{ ...REGION1, devices: [DEV1] }]);
    expect(daxctlDevs(k).map((d) => [d.name, d.claim, d.enabled])).toEqual([
      ['dax0.0', 'dax0.0', false],
      ['dax1.0', 'dax1.0', true],
    ]);
    // disabling a disabled device succeeds without doing anything, as daxctl_dev_disable() does
    expect(await f.run(cmdDisableDevice, '/dev/dax0.0')).toEqual(errOnly('disabled 1 device\n'));

    expect(await f.run(cmdEnableDevice, 'dax0.0')).toEqual(errOnly('enabled 1 device\n'));
    expect(driverOf(k, a.claim)).toBe('dax_pmem');
    expect(await f.json(cmdDaxctlList)).toEqual([DEV0, DEV1]);
    const t2 = k.spawn('reader');
    const fd2 = t2.open('/dev/dax0.0', O_RDWR);
    const addr2 = t2.mmap(0, 4096, PROT_READ, MAP_SHARED, fd2, 0);
    expect(t2.load(addr2 + 100, 3)).toEqual(new Uint8Array([7, 8, 9]));
    t2.exit();
    expect(await f.run(cmdEnableDevice, 'dax0.0')).toEqual(errOnly('enabled 1 device\n'));
  });

  it('disabling a mapped device takes it away from its user: the next access is SIGBUS', async () => {
    await using f = await bootTools();
    await twoDevices(f);
    const k = f.kernel;
    const t = k.spawn('mapper');
    const fd = t.open('/dev/dax1.0', O_RDWR);
    const addr = t.mmap(0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    t.store(addr, new Uint8Array([1]));
    expect(await f.run(cmdDisableDevice, 'dax1.0')).toEqual(errOnly('disabled 1 device\n'));
    expect(() => t.load(addr, 1)).toThrow(expect.objectContaining({ signal: 'SIGBUS', addr }));
    t.exit();
    expect(await f.json(cmdDaxctlList, '-i')).toEqual([
      DEV0,
      { chardev: 'dax1.0', size: 0, mode: 'devdax', state: 'disabled' },
    ]);
  });

  it('"all" and -r select several devices; an unknown device is 0 devices and success', async () => {
    await using f = await bootTools();
    await twoDevices(f);
    expect(await f.run(cmdDisableDevice, 'all', '-r', '1')).toEqual(errOnly('disabled 1 device\n'));
    expect(await f.run(cmdDisableDevice, 'all')).toEqual(errOnly('disabled 2 devices\n'));
    expect(daxctlRegions(f.kernel)).toEqual([]);
    expect(await f.run(cmdEnableDevice, 'dax9.9')).toEqual(errOnly('enabled 0 devices\n'));
    expect(await f.run(cmdEnableDevice, 'dax0.0', '--region=1')).toEqual(errOnly('enabled 0 devices\n'));
    expect(await f.run(cmdEnableDevice, 'all')).toEqual(errOnly('enabled 2 devices\n'));
    expect(await f.json(cmdDaxctlList)).toEqual([DEV0, DEV1]);
  });

  it('a failed probe is "enable failed" with the bind errno, exit status 256 - errno', async () => {
    await using f = await bootTools();
    const { a } = await twoDevices(f);
    const k = f.kernel;
    expect((await f.run(cmdDisableDevice, 'dax0.0')).status).toBe(0);
    // an allocation failure in the probe: the bind store reports ENODEV and the claim stays unbound
    k.faultInject.arm('kzalloc', 1, 1);
    expect(await f.run(cmdEnableDevice, 'dax0.0')).toEqual(
      errOnly(
        'libdaxctl: daxctl_dev_enable: dax0.0: failed to enable\n' +
          'dax0.0: enable failed: No such device\n' +
          'error enabling device: No such device\n' +
          'enabled 0 devices\n',
        237,
      ),
    );
    expect(driverOf(k, a.claim)).toBe(null);
    expect(read(k, a.claim, 'namespace')).toBe(a.namespace);
  });

  it('needs a device argument, and takes one only', async () => {
    await using f = await bootTools();
    const usage = (cmd: string) =>
      `\n usage: daxctl ${cmd} <device>\n\n` +
      '    -r, --region <region-id> filter by region\n' +
      '    -u, --human              use human friendly number formats\n' +
      '    -v, --verbose            emit more debug messages\n\n';
    expect(await f.run(cmdDisableDevice)).toEqual(
      errOnly(`specify a device to disable, or "all"\n${usage('disable-device')}`, 129),
    );
    // daxctl passes ACTION_DISABLE when parsing enable-device's options, hence "disable" here too
    expect(await f.run(cmdEnableDevice)).toEqual(
      errOnly(`specify a device to disable, or "all"\n${usage('enable-device')}`, 129),
    );
    expect(await f.run(cmdDisableDevice, 'dax0.0', 'dax1.0')).toEqual(
      errOnly(`unknown extra parameter "dax1.0"\n${usage('disable-device')}`, 129),
    );
  });
});

describe('libdaxctl filters', () => {
  it('util_daxctl_region_filter() and util_daxctl_dev_filter() parse idents as sscanf does', () => {
    const region: [string | null, boolean][] = [
      [null, true],
      ['all', true],
      ['1', true],
      [' 1', true],
      ['region1', true],
      ['region 1', true],
      ['1x', true],
      ['2', false],
      ['region2', false],
      [' region1', false],
      ['r1', false],
    ];
    expect(region.map(([id]) => daxctlRegionFilter(1, id))).toEqual(region.map(([, v]) => v));
    const dev = { name: 'dax1.2', id: 2, regionId: 1, size: 1, align: null, targetNode: null, enabled: true };
    const devs: [string | null, boolean][] = [
      [null, true],
      ['all', true],
      ['dax1.2', true],
      ['1.2', true],
      ['1. 2', true],
      ['1.3', false],
      ['dax1.3', false],
      ['2', false],
    ];
    expect(devs.map(([id]) => daxctlDevFilter(dev, id))).toEqual(devs.map(([, v]) => v));
  });
});
