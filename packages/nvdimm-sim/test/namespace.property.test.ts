/**
 * DPA and label accounting under any sequence of size stores on region0's namespaces: whatever each store
 * answers, the region's capacity is always split exactly between available_size and the namespaces, every
 * namespace with capacity has one label on each DIMM of the set (and one label slot fewer is available), a
 * rejected store changes nothing, and a reboot finds the same namespaces.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  attr,
  bind,
  bootNd,
  errnoOf,
  GiB,
  MiB,
  ND,
  type NdTestStack,
  store,
  TestNvdimms,
  unbind,
} from './platform.js';

const uuidOf = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

function namespaces(s: NdTestStack): Array<{ name: string; uuid: string; size: number }> {
  const k = s.kernel;
  return k.sysfs
    .readdir(`${ND}/region0`)
    .filter((d) => /^namespace0\.\d+$/.test(d))
    .map((name) => ({ name, uuid: attr(k, name, 'uuid'), size: Number(attr(k, name, 'size')) }))
    .filter((n) => n.size > 0);
}

function checkInvariants(s: NdTestStack): void {
  const k = s.kernel;
  const live = namespaces(s);
  const used = live.reduce((n, ns) => n + ns.size, 0);
  expect(Number(attr(k, 'region0', 'available_size'))).toBe(GiB - used);
  for (const dimm of ['nmem0', 'nmem1'])
    expect(Number(attr(k, dimm, 'available_slots'))).toBe(1015 - live.length);
}

/** An operation: a size (in 8 MiB units, possibly unaligned by 4K) on the seed or on an existing namespace. */
const op = fc.record({
  target: fc.nat(3),
  units: fc.nat(80),
  skew: fc.constantFrom(0, 0, 0, 4096),
});

it('keeps capacity and labels consistent under any sequence of size stores', async () => {
  let next = 1;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
      const nv = new TestNvdimms();
      let before: Array<{ name: string; uuid: string; size: number }>;
      {
        await using s = await bootNd(nv);
        const k = s.kernel;
        for (const { target, units, skew } of ops) {
          const live = namespaces(s);
          let name = live[target]?.name;
          if (name === undefined) {
            name = attr(k, 'region0', 'namespace_seed');
            if (attr(k, name, 'uuid') === '') await store(k, name, 'uuid', uuidOf(next++));
          }
          const was = attr(k, name, 'size');
          const size = units * 8 * MiB + skew;
          const rc = await errnoOf(store(k, name, 'size', String(size)));
          await k.async.synchronizeFull();
          if (rc === 'ok') {
            if (size > 0) expect(attr(k, name, 'size')).toBe(String(size));
            // enabling the seed once makes the region plant the next one
            if (size > 0 && attr(k, 'region0', 'namespace_seed') === name) {
              await bind(k, 'nd_pmem', name);
              await unbind(k, name);
            }
          } else {
            expect(['EINVAL', 'ENOSPC']).toContain(rc);
            expect(attr(k, name, 'size')).toBe(was);
          }
          checkInvariants(s);
        }
        before = namespaces(s);
      }
      await using s = await bootNd(nv);
      // the same set; names follow DPA order after a reboot, creation order before it
      const key = (l: Array<{ uuid: string; size: number }>) =>
        l.map(({ uuid, size }) => `${uuid}:${size}`).sort();
      expect(key(namespaces(s))).toEqual(key(before));
      checkInvariants(s);
    }),
    { numRuns: 40 },
  );
});
