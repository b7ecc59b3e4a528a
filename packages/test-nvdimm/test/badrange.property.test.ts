import fc from 'fast-check';
import { expect, it } from 'vitest';
import { NfitTestFirmware, sparsePlatform } from '../src/index.js';
import { GiB } from './helpers.js';

const BASE = 4 * GiB;
const SPACE = 4096;

/** The injected-error list as byte sets: one set per entry, entries in list order. */
class Model {
  entries: Set<number>[] = [];

  inject(addr: number, len: number): void {
    const bytes = new Set(Array.from({ length: len }, (_, i) => addr + i));
    const same = this.entries.findIndex((e) => Math.min(...e) === addr);
    if (same >= 0) this.entries[same] = bytes;
    else this.entries.push(bytes);
  }

  forget(addr: number, len: number): void {
    const appended: Set<number>[] = [];
    const kept: Set<number>[] = [];
    for (const e of this.entries) {
      const left = new Set([...e].filter((b) => b < addr));
      const right = new Set([...e].filter((b) => b >= addr + len));
      const hit = left.size + right.size < e.size;
      if (!hit) kept.push(e);
      else if (left.size > 0 && right.size > 0) {
        kept.push(left);
        appended.push(right);
      } else if (left.size > 0) kept.push(left);
      else if (right.size > 0) kept.push(right);
    }
    this.entries = [...kept, ...appended];
  }

  list(): { address: number; length: number }[] {
    return this.entries.map((e) => ({ address: Math.min(...e), length: e.size }));
  }

  records(addr: number, len: number): { handle: number; address: number; length: number }[] {
    return this.entries.flatMap((e) => {
      const inside = [...e].filter((b) => b >= addr && b < addr + len);
      return inside.length === 0
        ? []
        : [{ handle: 0, address: BASE + Math.min(...inside), length: inside.length }];
    });
  }
}

type Op =
  | { op: 'inject' | 'uninject'; addr: number; len: number }
  | { op: 'clear'; unit: number; units: number }
  | { op: 'scrub'; addr: number; len: number };

/** Addresses and lengths near 256-byte boundaries, so that ranges often share starts and ends. */
const addr = fc
  .tuple(fc.integer({ min: 0, max: SPACE / 256 - 1 }), fc.constantFrom(0, 0, 0, 1, 128, 255))
  .map(([unit, off]) => unit * 256 + off);
const len = fc
  .tuple(fc.integer({ min: 0, max: 6 }), fc.constantFrom(0, 0, 1, 255))
  .map(([units, off]) => Math.max(1, units * 256 + off));

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('inject' as const), addr, len }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('uninject' as const), addr, len }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('clear' as const),
      unit: fc.integer({ min: 0, max: SPACE / 256 - 1 }),
      units: fc.integer({ min: 0, max: 4 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('scrub' as const), addr, len: fc.oneof(len, fc.constant(SPACE)) }),
    weight: 2,
  },
);

it('inject, uninject, clear and scrub agree with a byte-set model of the injected list', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      const fw = new NfitTestFirmware(sparsePlatform({ size: GiB, base: BASE }), { arsBusyPolls: 0 });
      const model = new Model();
      for (const o of ops) {
        if (o.op === 'inject') {
          fw.injectError(BASE + o.addr, o.len);
          model.inject(o.addr, o.len);
        } else if (o.op === 'uninject') {
          fw.uninjectError(BASE + o.addr, o.len);
          model.forget(o.addr, o.len);
        } else if (o.op === 'clear') {
          expect(fw.clearError(BASE + o.unit * 256, o.units * 256)).toBe(o.units * 256);
          model.forget(o.unit * 256, o.units * 256);
        } else {
          fw.arsStart(BASE + o.addr, o.len);
          expect(fw.arsStatus().records).toEqual(model.records(o.addr, o.len));
        }
        expect(fw.injectedErrors()).toEqual(
          model.list().map((e) => ({ address: BASE + e.address, length: e.length })),
        );
      }
    }),
    { numRuns: 500 },
  );
});
