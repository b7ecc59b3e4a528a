/**
 * The daxsim bin as a user's scripts drive it: one child process per command, over one state folder. What one
 * invocation creates, later ones list, map, read and destroy; bad input exits non-zero with the platform's
 * files unchanged; a process killed mid-write leaves a platform that boots.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daxsim, daxsimJson, daxsimSpawn, scratch, sh, snapshot } from './cli_harness.js';

const MiB = 1024 * 1024;

interface NsJson {
  dev: string;
  mode: string;
  map?: string;
  size: number;
  uuid: string;
  chardev?: string;
  blockdev?: string;
  align?: number;
  name?: string;
}

describe('daxsim platform', () => {
  it('init, show, reset and a user topology', () => {
    using s = scratch();
    expect(daxsim(s.state, s.dir, ...sh('platform init'))).toMatchObject({ status: 0 });
    const again = daxsim(s.state, s.dir, ...sh('platform init'));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
    const show = daxsimJson(s.state, s.dir, ...sh('platform show')) as {
      topology: string;
      platforms: { name: string; dimms: unknown[]; ranges: { size: number; read_only: boolean }[] }[];
    };
    expect(show.topology).toBe('nfit_test');
    expect(show.platforms.map((p) => [p.name, p.dimms.length, p.ranges.map((r) => r.size / MiB)])).toEqual([
      ['nfit_test.0', 4, [32, 64]],
      ['nfit_test.1', 1, [32, 4]],
    ]);

    const topo = join(s.dir, 'qemu.json');
    writeFileSync(
      topo,
      JSON.stringify({ dimms: [{ size: '512M' }, { size: '512M' }], spas: [{ interleave: [0, 1] }] }),
    );
    expect(daxsim(s.state, s.dir, 'platform', 'reset', '--topology', topo).status).toBe(0);
    const regions = daxsimJson(s.state, s.dir, ...sh('ndctl list -R')) as
      | { size: number }
      | { size: number }[];
    expect([regions].flat().map((r) => r.size)).toEqual([1024 * MiB]);

    const before = snapshot(s.state);
    writeFileSync(join(s.dir, 'broken.json'), '{"spas": [{"interleave": [7]}]}');
    const bad = daxsim(s.state, s.dir, ...sh('platform reset --topology broken.json'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/does not name one of the 0 DIMMs/);
    expect(snapshot(s.state)).toBe(before);
  });

  it('a broken platform folder is refused with a clear message and left as it is', () => {
    using s = scratch();
    daxsim(s.state, s.dir, ...sh('platform init'));
    const show = daxsimJson(s.state, s.dir, ...sh('platform show')) as {
      platforms: { ranges: { base: string }[] }[];
    };
    const base = show.platforms[0]!.ranges[0]!.base.slice(2);
    truncateSync(join(s.state, 'media', `nfit_test.0-spa-${base}.img`), 4096);
    const before = snapshot(s.state);
    const r = daxsim(s.state, s.dir, ...sh('ndctl list'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/platform folder .* is broken: .*is 4096 bytes, not 33554432/);
    expect(r.stderr).toMatch(/daxsim platform reset/);
    expect(snapshot(s.state)).toBe(before);
    expect(daxsim(s.state, s.dir, ...sh('platform reset')).status).toBe(0);
    expect(daxsim(s.state, s.dir, ...sh('ndctl list')).status).toBe(0);
  });
});

describe('a namespace across invocations', () => {
  it('created by one invocation, listed, written with daxio, read back, reconfigured and destroyed by later ones', () => {
    using s = scratch();
    const created = daxsimJson(
      s.state,
      s.dir,
      ...sh('ndctl create-namespace -r region1 -m devdax -a 4K -s 16M -n cli'),
    ) as NsJson;
    expect(created).toMatchObject({ mode: 'devdax', map: 'dev', name: 'cli', align: 4096 });
    expect(created.chardev).toMatch(/^dax1\.\d+$/);

    // one namespace without -u: a one-element array, as util_display_json_array prints it
    const listed = daxsimJson(s.state, s.dir, 'ndctl', 'list', '-N', '-n', created.dev) as NsJson[];
    expect(listed).toEqual([created]);

    const data = randomBytes(3 * MiB + 512);
    writeFileSync(join(s.dir, 'in.bin'), data);
    const w = daxsim(s.state, s.dir, 'daxio', '-i', 'in.bin', '-o', `/dev/${created.chardev}`, '-s', '4096');
    expect(w.status).toBe(0);
    const r = daxsim(
      s.state,
      s.dir,
      'daxio',
      '-i',
      `/dev/${created.chardev}`,
      '-o',
      'out.bin',
      '-k',
      '4096',
      '-l',
      String(data.length),
    );
    expect(r.status).toBe(0);
    expect(readFileSync(join(s.dir, 'out.bin')).equals(data)).toBe(true);

    const reconf = daxsimJson(
      s.state,
      s.dir,
      'ndctl',
      'create-namespace',
      '-f',
      '-e',
      created.dev,
      '-m',
      'fsdax',
      '-a',
      '4K',
    ) as NsJson;
    // -e keeps the size and name; ndctl gives the namespace a new uuid unless -u names one
    expect(reconf).toMatchObject({ dev: created.dev, mode: 'fsdax', name: 'cli' });
    expect(reconf.uuid).not.toBe(created.uuid);
    expect(reconf.blockdev).toMatch(/^pmem1/);

    const d = daxsim(s.state, s.dir, 'ndctl', 'destroy-namespace', '-f', created.dev);
    expect(d.status).toBe(0);
    expect(d.stderr).toMatch(/destroyed 1 namespace/);
    const after = daxsim(s.state, s.dir, ...sh('ndctl list -N -r region1'));
    expect(after.stdout.trim()).toBe('');
  });

  it('ndctl list JSON has the reference field names and types', () => {
    using s = scratch();
    daxsimJson(s.state, s.dir, ...sh('ndctl create-namespace -r region1 -m devdax -a 2M -s 16M'));
    const [ns] = daxsimJson(s.state, s.dir, ...sh('ndctl list -N -X -r region1')) as Record<
      string,
      unknown
    >[];
    if (ns === undefined) throw new Error('no namespace listed');
    expect(typeof ns.dev).toBe('string');
    expect(ns.mode).toBe('devdax');
    expect(ns.map).toBe('dev');
    expect(typeof ns.size).toBe('number');
    expect(ns.uuid).toMatch(/^[0-9a-f-]{36}$/);
    const region = ns.daxregion as Record<string, unknown>;
    expect(Object.keys(region)).toEqual(expect.arrayContaining(['id', 'size', 'align', 'devices']));
    expect(typeof region.id).toBe('number');
    const [dev] = region.devices as Record<string, unknown>[];
    expect(dev).toMatchObject({ chardev: expect.stringMatching(/^dax1\.\d+$/), size: expect.any(Number) });
    expect(ns.align).toBe(2 * MiB);
  });
});

describe('bad input', () => {
  it('exits non-zero with a clear message and leaves the platform unchanged', () => {
    using s = scratch();
    const ns = daxsimJson(
      s.state,
      s.dir,
      ...sh('ndctl create-namespace -r region1 -m devdax -a 4K -s 16M'),
    ) as NsJson;
    const before = snapshot(s.state);
    const cases: [string[], RegExp][] = [
      [['ndctl', 'create-namespace', '-r', 'region9', '-m', 'fsdax'], /region9|no such|not found/i],
      [['ndctl', 'create-namespace', '-r', 'region1', '-m', 'fsdax', '-s', '1G'], /./],
      [['ndctl', 'create-namespace', '-r', 'region1', '-m', 'devdax', '-a', '3K'], /./],
      [['ndctl', 'create-namespace', '-e', ns.dev, '-m', 'fsdax'], /active|force/i],
      [['ndctl', 'destroy-namespace', ns.dev], /active|force/i],
      [['ndctl', 'destroy-namespace', 'namespace9.9'], /./],
      [['ndctl', 'create-namespace', '--bogus'], /unknown option/],
      [['ndctl', 'frobnicate'], /Unknown command/],
      [['daxio', '-i', '/dev/dax9.9', '-o', 'x.bin'], /./],
    ];
    for (const [args, msg] of cases) {
      const r = daxsim(s.state, s.dir, ...args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(snapshot(s.state), args.join(' ')).toBe(before);
    }
  });
});

describe('an interrupted invocation', () => {
  it('killed mid-write, it leaves a platform that boots with its namespaces', async () => {
    using s = scratch();
    const ns = daxsimJson(
      s.state,
      s.dir,
      ...sh('ndctl create-namespace -r region1 -m devdax -a 4K -s 56M'),
    ) as NsJson;
    writeFileSync(join(s.dir, 'big.bin'), randomBytes(50 * MiB));
    let killed = 0;
    for (const delay of [40, 80, 120, 160, 200, 240]) {
      const child = daxsimSpawn(s.state, s.dir, 'daxio', '-i', 'big.bin', '-o', `/dev/${ns.chardev}`);
      const exited = new Promise<NodeJS.Signals | null>((r) =>
        child.once('exit', (_code, signal) => r(signal)),
      );
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      if ((await exited) === 'SIGKILL') killed++;
      const list = daxsimJson(s.state, s.dir, ...sh('ndctl list -N')) as NsJson[];
      expect(list.map((n) => [n.dev, n.uuid, n.mode, n.chardev])).toContainEqual([
        ns.dev,
        ns.uuid,
        'devdax',
        ns.chardev,
      ]);
    }
    // the kills landed while the command ran (node start, boot or the copy), not after it finished
    expect(killed).toBeGreaterThanOrEqual(3);
    expect(daxsim(s.state, s.dir, 'daxio', '-i', 'big.bin', '-o', `/dev/${ns.chardev}`).status).toBe(0);
    expect(
      daxsim(s.state, s.dir, 'daxio', '-i', `/dev/${ns.chardev}`, '-o', 'back.bin', '-l', String(50 * MiB))
        .status,
    ).toBe(0);
    expect(readFileSync(join(s.dir, 'back.bin')).equals(readFileSync(join(s.dir, 'big.bin')))).toBe(true);
  });
});

describe('interrupted configuration', () => {
  it('killed while it writes labels and info blocks, the platform boots and can be configured again', async () => {
    using s = scratch();
    daxsimJson(s.state, s.dir, ...sh('ndctl create-namespace -r region1 -m fsdax -a 4K -s 16M'));
    let killed = 0;
    for (let delay = 30; delay <= 140; delay += 10) {
      const line =
        delay % 20 === 0
          ? 'ndctl create-namespace -f -e namespace1.0 -m devdax -a 4K'
          : 'ndctl create-namespace -r region0 -m fsdax -a 4K -s 16M';
      const child = daxsimSpawn(s.state, s.dir, ...sh(line));
      const exited = new Promise<NodeJS.Signals | null>((r) =>
        child.once('exit', (_code, signal) => r(signal)),
      );
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      if ((await exited) === 'SIGKILL') killed++;
      const listed = daxsim(s.state, s.dir, ...sh('ndctl list -N -i'));
      expect(listed.status, `after killing '${line}' at ${delay} ms`).toBe(0);
      const all = JSON.parse(listed.stdout || '[]') as NsJson[];
      // every namespace the boot found is one the tools can report: a known mode, a size
      for (const ns of [all].flat()) expect(['raw', 'fsdax', 'devdax']).toContain(ns.mode);
    }
    expect(killed).toBeGreaterThan(0);
    expect(daxsim(s.state, s.dir, ...sh('ndctl destroy-namespace -f all')).status).toBe(0);
    const fresh = daxsimJson(
      s.state,
      s.dir,
      ...sh('ndctl create-namespace -r region1 -m devdax -a 4K -s 16M'),
    );
    expect(fresh).toMatchObject({ mode: 'devdax' });
  });
});

describe('daxsim demo', () => {
  it('runs the device-dax scenario to the SIGBUS and leaves the platform to explore', () => {
    using s = scratch();
    const r = daxsim(s.state, s.dir, 'demo');
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /\$ daxsim ndctl create-namespace -r region1 -m fsdax -a 2M -s 32M -n demo\n\{\n {2}"dev":"namespace1\.0",\n {2}"mode":"fsdax"/,
    );
    expect(r.stdout).toMatch(/"mode":"devdax"/);
    expect(r.stdout).toMatch(/holds the data the fsdax namespace was given: verified/);
    expect(r.stdout).toMatch(/mmap\(MAP_PRIVATE\) -> EINVAL/);
    expect(r.stdout).toMatch(/4 MiB verified/);
    expect(r.stdout).toMatch(/next store -> SIGBUS: bus error \(BUS_ADRERR\)/);
    const [ns] = daxsimJson(s.state, s.dir, ...sh('ndctl list -N -r region1')) as {
      mode: string;
      name: string;
    }[];
    expect(ns).toMatchObject({ mode: 'raw', name: 'demo' });
    // a second run starts again from a fresh platform
    const again = daxsim(s.state, s.dir, 'demo');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/\$ daxsim platform reset/);
  });
});
