import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorsPath, labelPath, mediaPath } from '../src/platform/file_media.js';
import { bootMachine } from '../src/platform/machine.js';
import {
  initPlatform,
  loadTopology,
  lockPlatform,
  readPlatform,
  resetPlatform,
  resolveStateDir,
} from '../src/platform/state.js';
import { parseTopology } from '../src/platform/topology.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
let root: string;
let dir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'daxsim-platform-'));
  dir = join(root, 'state');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('state folder', () => {
  it('resolves --state, then $DAXSIM_STATE, then ./.daxsim', () => {
    expect(resolveStateDir('x', { DAXSIM_STATE: '/env' }, '/cwd')).toBe('/cwd/x');
    expect(resolveStateDir(undefined, { DAXSIM_STATE: '/env' }, '/cwd')).toBe('/env');
    expect(resolveStateDir(undefined, { DAXSIM_STATE: '' }, '/cwd')).toBe('/cwd/.daxsim');
  });

  it('init writes nfit_test media, label areas and error lists as nfit_test seeds them', () => {
    const t = loadTopology(undefined, root);
    initPlatform(dir, t.topology, t.platforms);
    const state = readPlatform(dir);
    expect(state.topology).toBe('nfit_test');
    expect(state.platforms.map((p) => p.name)).toEqual(['nfit_test.0', 'nfit_test.1']);
    const p0 = state.platforms[0]!.platform;
    expect(statSync(mediaPath(dir, 'nfit_test.0', p0.spas[1]!.base)).size).toBe(64 * MiB);
    // sparse: a 64 MiB media file occupies (almost) nothing
    expect(statSync(mediaPath(dir, 'nfit_test.0', p0.spas[1]!.base)).blocks * 512).toBeLessThan(64 * 1024);
    const lsa = readFileSync(labelPath(dir, 'nfit_test.0', p0.dimms[2]!.handle));
    expect(lsa.length).toBe(128 * 1024);
    expect(lsa.subarray(0, 7).toString('latin1')).toBe('label2\0');
    expect(readFileSync(errorsPath(dir, 'nfit_test.1'), 'utf8')).toBe('[]\n');
  });

  it('init refuses an existing platform and a folder that is not one, touching neither', () => {
    const t = loadTopology(undefined, root);
    initPlatform(dir, t.topology, t.platforms);
    expect(code(() => initPlatform(dir, t.topology, t.platforms))).toBe('EEXIST');
    const other = join(root, 'mine');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'keep me');
    expect(code(() => initPlatform(other, t.topology, t.platforms))).toBe('EEXIST');
    expect(readFileSync(join(other, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('a folder whose files do not match platform.json is broken (EINVAL), and reset mends it', () => {
    const t = loadTopology(undefined, root);
    const state = initPlatform(dir, t.topology, t.platforms);
    const spa = state.platforms[0]!.platform.spas[0]!;
    truncateSync(mediaPath(dir, 'nfit_test.0', spa.base), 4096);
    expect(code(() => readPlatform(dir))).toBe('EINVAL');
    resetPlatform(dir);
    expect(readPlatform(dir).platforms).toHaveLength(2);
    rmSync(labelPath(dir, 'nfit_test.0', state.platforms[0]!.platform.dimms[0]!.handle));
    expect(code(() => readPlatform(dir))).toBe('EINVAL');
    resetPlatform(dir);
    writeFileSync(errorsPath(dir, 'nfit_test.0'), '[{"address":-1}]');
    expect(code(() => readPlatform(dir))).toBe('EINVAL');
    writeFileSync(join(dir, 'platform.json'), '{');
    expect(code(() => readPlatform(dir))).toBe('EINVAL');
    resetPlatform(dir);
    expect(readPlatform(dir).topology).toBe('nfit_test');
    rmSync(dir, { recursive: true });
    expect(code(() => readPlatform(dir))).toBe('ENOENT');
  });

  it('the lock is exclusive while its holder lives and is taken over once it is gone', async () => {
    const t = loadTopology(undefined, root);
    initPlatform(dir, t.topology, t.platforms);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    writeFileSync(join(dir, 'lock'), `${child.pid}\n`);
    expect(code(() => lockPlatform(dir))).toBe('EBUSY');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const release = lockPlatform(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    release();
    expect(code(() => statSync(join(dir, 'lock')))).toBe('ENOENT');
  });
});

describe('topology descriptions', () => {
  it('builds a QEMU-style description with size strings, placing ranges at 1 GiB boundaries', () => {
    const [p] = parseTopology(
      JSON.stringify({
        dimms: [{ size: '1G', labelSize: '128K' }, { size: '1G' }],
        spas: [{ interleave: [0, 1] }, { size: '16M' }],
      }),
    );
    expect(p!.name).toBe('nfit_test.0');
    expect(p!.platform.providerName).toBe('nfit_test.0');
    expect(p!.platform.dimms.map((d) => [d.size, d.labelSize])).toEqual([
      [GiB, 128 * 1024],
      [GiB, 128 * 1024],
    ]);
    expect(p!.platform.spas.map((s) => [s.base / GiB, s.size / MiB])).toEqual([
      [64, 2048],
      [66, 16],
    ]);
  });

  it('rejects malformed descriptions with EINVAL naming the entry', () => {
    const bad = (d: unknown) => {
      try {
        parseTopology(typeof d === 'string' ? d : JSON.stringify(d));
      } catch (e) {
        return `${(e as { code: string }).code} ${(e as Error).message}`;
      }
      return 'built';
    };
    expect(bad('{')).toMatch(/^EINVAL .*not JSON/);
    expect(bad({ dimms: [{ size: '1Q' }], spas: [] })).toMatch(
      /^EINVAL .*dimms\[0\]\.size: "1Q" is not a size/,
    );
    expect(bad({ spas: 3 })).toMatch(/^EINVAL .*spas must be an array/);
    expect(bad({ dimms: [{ size: '1G' }], spas: [{ interleave: [3] }] })).toMatch(
      /^EINVAL .*does not name one of the 1 DIMMs/,
    );
    expect(bad({ platforms: [] })).toMatch(/^EINVAL .*non-empty/);
    expect(
      bad({
        platforms: [
          { name: 'a', spas: [] },
          { name: 'a', spas: [] },
        ],
      }),
    ).toMatch(/used twice/);
  });

  it('any JSON value either builds a valid platform or is EINVAL, never another failure', () => {
    const size = fc.oneof(
      fc.integer({ min: -1, max: 4 * GiB }),
      fc.constantFrom('1G', '32M', '4k', 'x', '0x1000'),
    );
    const desc = fc.record(
      {
        dimms: fc.array(fc.record({ size, labelSize: fc.oneof(size, fc.constant(undefined)) }), {
          maxLength: 4,
        }),
        spas: fc.array(
          fc.record({
            interleave: fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 4 }),
            size: fc.oneof(size, fc.constant(undefined)),
          }),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: ['spas'] },
    );
    fc.assert(
      fc.property(fc.oneof(desc, fc.jsonValue()), (d) => {
        try {
          for (const p of parseTopology(JSON.stringify(d)))
            expect(p.platform.spas.length).toBeGreaterThanOrEqual(0);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('EINVAL');
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('a machine booted from the folder', () => {
  it('persists a namespace, its info block and its data from one boot to the next', async () => {
    const t = loadTopology(undefined, root);
    const state = initPlatform(dir, t.topology, t.platforms);
    const streams = { stdout: () => {}, stderr: () => {}, isTTY: false, cwd: root };
    const a = await bootMachine(state, streams);
    const k = a.kernel;
    const nd = '/sys/bus/nd/devices';
    const seed = k.sysfs.read(`${nd}/region1/namespace_seed`).trim();
    await k.sysfs.write(`${nd}/${seed}/uuid`, 'b7b2bf52-7d8d-4e5b-9d4c-2e2a8f4c5d61\n');
    await k.sysfs.write(`${nd}/${seed}/size`, `${16 * MiB}\n`);
    const dax = k.sysfs.read(`${nd}/region1/dax_seed`).trim();
    await k.sysfs.write(`${nd}/${dax}/uuid`, 'c1a1a1a1-7d8d-4e5b-9d4c-2e2a8f4c5d61\n');
    await k.sysfs.write(`${nd}/${dax}/mode`, 'pmem\n');
    await k.sysfs.write(`${nd}/${dax}/align`, '4096\n');
    await k.sysfs.write(`${nd}/${dax}/namespace`, `${seed}\n`);
    await k.sysfs.write('/sys/bus/nd/drivers/dax_pmem/bind', `${dax}\n`).catch((e) => {
      throw new Error(`${e.message}\n${k.dmesg().join('\n')}`);
    });
    await k.async.synchronizeFull();
    const chardev = k.sysfs.readdir('/sys/class/dax')[0]!;
    const task = k.spawn('writer');
    const fd = task.open(`/dev/${chardev}`);
    const addr = task.mmap(0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    task.store(addr + 4096, new TextEncoder().encode('persistent hello'));
    task.close(fd);
    await a.shutdown();
    expect(state.platforms).toHaveLength(2);

    const b = await bootMachine(readPlatform(dir), streams);
    try {
      const k2 = b.kernel;
      expect(k2.sysfs.read(`${nd}/${seed}/uuid`).trim()).toBe('b7b2bf52-7d8d-4e5b-9d4c-2e2a8f4c5d61');
      expect(k2.sysfs.readdir('/sys/class/dax')).toEqual([chardev]);
      const t2 = k2.spawn('reader');
      const fd2 = t2.open(`/dev/${chardev}`);
      const addr2 = t2.mmap(0, 2 * MiB, PROT_READ, MAP_SHARED, fd2, 0);
      expect(new TextDecoder().decode(t2.load(addr2 + 4096, 16))).toBe('persistent hello');
      t2.close(fd2);
    } finally {
      await b.shutdown();
    }
  });
});
