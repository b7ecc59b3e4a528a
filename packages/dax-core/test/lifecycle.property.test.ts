import { minor } from '@daxsim/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DaxInode } from '../src/index.js';
import { bootDax, gracePeriod } from './fixtures.js';

type Op =
  | { t: 'alloc'; host: number | null }
  | { t: 'kill'; k: number }
  | { t: 'put'; k: number }
  | { t: 'get'; host: number }
  | { t: 'gp' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('alloc' as const), host: fc.option(fc.nat(3)) }),
  fc.record({ t: fc.constant('kill' as const), k: fc.nat(50) }),
  fc.record({ t: fc.constant('put' as const), k: fc.nat(50) }),
  fc.record({ t: fc.constant('get' as const), host: fc.nat(3) }),
  fc.constant({ t: 'gp' as const }),
);

interface Model {
  dax: DaxInode;
  minor: number;
  host: string | null;
  refs: number;
  killed: boolean;
}

describe('dax inode lifecycle (property)', () => {
  it('minors, references, host lookups and liveness follow the kernel contract for any sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        await using f = await bootDax({ nr_dax: 256 });
        const { dax } = f;
        const live: Model[] = [];
        /** Minors whose final put happened but whose grace period has not passed. */
        const pending = new Set<number>();
        for (const o of ops) {
          if (o.t === 'alloc') {
            const host = o.host === null ? null : `pmem${o.host}`;
            const d = dax.allocDaxInode(o, host)!;
            expect(d).not.toBeNull();
            const m = minor(d.inode.rdev);
            expect(pending.has(m)).toBe(false);
            expect(live.some((x) => x.minor === m)).toBe(false);
            const lowest = [...Array(257).keys()].find(
              (i) => !pending.has(i) && !live.some((x) => x.minor === i),
            );
            expect(m).toBe(lowest);
            live.push({ dax: d, minor: m, host, refs: 1, killed: false });
          } else if (o.t === 'kill' && live.length > 0) {
            const x = live[o.k % live.length]!;
            await dax.killDaxInode(x.dax);
            x.killed = true;
            expect(dax.daxInodeGetPrivate(x.dax)).toBeNull();
          } else if (o.t === 'put' && live.length > 0) {
            const i = o.k % live.length;
            const x = live[i]!;
            if (!x.killed) continue;
            dax.putDaxInode(x.dax);
            if (--x.refs === 0) {
              live.splice(i, 1);
              pending.add(x.minor);
            }
          } else if (o.t === 'get') {
            const host = `pmem${o.host}`;
            const got = dax.daxGetByHost(host);
            const candidates = live.filter((x) => x.host === host && !x.killed);
            if (candidates.length === 0) expect(got).toBeNull();
            else {
              const x = candidates.find((c) => c.dax === got);
              expect(x).toBeDefined();
              x!.refs++;
            }
          } else if (o.t === 'gp') {
            await gracePeriod(f.kernel);
            pending.clear();
          }
          const id = dax.daxReadLock();
          for (const x of live) expect(dax.daxInodeAlive(x.dax)).toBe(!x.killed);
          dax.daxReadUnlock(id);
          expect(dax.stats().minors).toBe(live.length + pending.size);
          expect(dax.stats().hosts).toBe(live.filter((x) => x.host !== null && !x.killed).length);
        }
        for (const x of live) {
          await dax.killDaxInode(x.dax);
          for (let r = 0; r < x.refs; r++) dax.putDaxInode(x.dax);
        }
        await gracePeriod(f.kernel);
        expect(dax.stats()).toEqual({ minors: 0, inodes: 0, hosts: 0, readers: 0 });
        expect(f.kernel.log.warnings).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
