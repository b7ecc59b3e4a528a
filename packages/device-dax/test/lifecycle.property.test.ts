import { MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE, type Task } from '@daxsim/kernel';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { errno } from './errno.js';
import { bootDevDax, MiB } from './fixtures.js';

const SIZE = 8 * MiB;
const ALIGN = 2 * MiB;

type Op =
  | { op: 'open'; task: number }
  | { op: 'close'; task: number }
  | { op: 'mmap'; task: number; pages: number; off: number }
  | { op: 'munmap'; task: number }
  | { op: 'store'; task: number; at: number; value: number }
  | { op: 'load'; task: number; at: number }
  | { op: 'unbind' };

const task = fc.integer({ min: 0, max: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('open' as const), task }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), task }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('mmap' as const),
      task,
      pages: fc.integer({ min: 1, max: 4 }),
      off: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('munmap' as const), task }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('store' as const),
      task,
      at: fc.integer({ min: 0, max: 4 * ALIGN - 1 }),
      value: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('load' as const),
      task,
      at: fc.integer({ min: 0, max: 4 * ALIGN - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unbind' as const) }) },
);

interface Mapping {
  addr: number;
  len: number;
  /** Device offset of addr. */
  off: number;
}

/**
 * Random open/mmap/access/munmap/close/unbind sequences by two tasks on one dax device. After every step:
 * accesses through a live device agree with a byte model shared by all mappings; once the device is
 * unregistered no access succeeds (SIGBUS), mmap on an open fd is ENXIO and open is ENOENT; the device is
 * freed exactly when the last file reference goes; the fixture's leak check passes at the end.
 */
it('dax device lifecycle under random open/mmap/access/unbind sequences', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
      await using f = await bootDevDax();
      await f.device(2 ** 36, SIZE, ALIGN);
      const tasks: Task[] = [f.kernel.spawn('t0'), f.kernel.spawn('t1')];
      const fds: Array<number | null> = [null, null];
      const maps: Array<Mapping | null> = [null, null];
      const model = new Map<number, number>();
      let alive = true;
      for (const step of ops) {
        if (step.op === 'unbind') {
          await f.unbind();
          alive = false;
          continue;
        }
        const t = tasks[step.task]!;
        const fd = fds[step.task]!;
        const map = maps[step.task]!;
        switch (step.op) {
          case 'open':
            if (fd !== null) break;
            if (alive) fds[step.task] = t.open('/dev/dax0.0', O_RDWR);
            else expect(() => t.open('/dev/dax0.0', O_RDWR)).toThrow(errno('ENOENT'));
            break;
          case 'close':
            if (fd === null) break;
            t.close(fd);
            fds[step.task] = null;
            break;
          case 'mmap': {
            if (fd === null || map !== null) break;
            const len = step.pages * ALIGN;
            const off = step.off * ALIGN;
            if (!alive) {
              expect(() => t.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off)).toThrow(
                errno('ENXIO'),
              );
              break;
            }
            const addr = t.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
            expect(addr % ALIGN).toBe(0);
            maps[step.task] = { addr, len, off };
            break;
          }
          case 'munmap':
            if (map === null) break;
            t.munmap(map.addr, map.len);
            maps[step.task] = null;
            break;
          case 'store':
          case 'load': {
            if (map === null) break;
            const at = step.at % map.len;
            const devOff = map.off + at;
            const access = () =>
              step.op === 'store'
                ? t.store(map.addr + at, new Uint8Array([step.value]))
                : t.load(map.addr + at, 1)[0];
            if (!alive || devOff >= SIZE) {
              expect(access).toThrow(expect.objectContaining({ signal: 'SIGBUS' }));
              break;
            }
            const got = access();
            if (step.op === 'store') model.set(devOff, step.value);
            else expect(got).toBe(model.get(devOff) ?? 0);
            break;
          }
        }
        const held = fds.some((x) => x !== null) || maps.some((m) => m !== null);
        expect(f.devdax.stats().devices).toBe(alive || held ? 1 : 0);
        expect(f.kernel.sysfs.exists('/sys/class/dax/dax0.0')).toBe(alive);
      }
    }),
    { numRuns: 200 },
  );
});
