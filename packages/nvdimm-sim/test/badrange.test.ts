import { Badblocks } from '@daxsim/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Badrange, badblocksPopulate } from '../src/badrange.js';

describe('badrange', () => {
  it('badrange_add: the same start takes the new length; other ranges append', () => {
    const br = new Badrange();
    br.add(4096, 512);
    br.add(8192, 256);
    br.add(4096, 1024);
    expect(br.entries()).toEqual([
      { start: 4096, length: 1024 },
      { start: 8192, length: 256 },
    ]);
  });

  it('badrange_forget: trims, removes and splits', () => {
    const br = new Badrange();
    br.add(0, 4096);
    br.add(8192, 512);
    br.forget(1024, 1024);
    br.forget(8192, 512);
    expect(br.entries()).toEqual([
      { start: 0, length: 1024 },
      { start: 2048, length: 2048 },
    ]);
  });

  it('badblocks_populate marks every sector of the window an error touches, relative to the window', () => {
    const br = new Badrange();
    br.add(600, 100); // inside sector 1 of a window at 0
    br.add(4096 + 511, 2); // straddles sectors 8 and 9
    br.add(1 << 20, 4096); // outside
    const bb = new Badblocks();
    badblocksPopulate(br, bb, 0, 1 << 20);
    expect(bb.show()).toBe('1 1\n8 2\n');
    const shifted = new Badblocks();
    badblocksPopulate(br, shifted, 4096, 8192);
    expect(shifted.show()).toBe('0 2\n');
  });

  it('populate agrees with a sector model for random errors and windows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(64 * 1024), fc.integer({ min: 1, max: 8192 })), { maxLength: 8 }),
        fc.nat(32 * 1024),
        fc.integer({ min: 512, max: 64 * 1024 }),
        (errors, start, size) => {
          const br = new Badrange();
          for (const [a, l] of errors) br.add(a, l);
          const bb = new Badblocks();
          badblocksPopulate(br, bb, start, size);
          const want = new Set<number>();
          for (const e of br.entries())
            for (let b = Math.max(e.start, start); b < Math.min(e.start + e.length, start + size); b++)
              want.add(Math.floor((b - start) / 512));
          const got = new Set<number>();
          for (const r of bb.ranges()) for (let s = r.offset; s < r.offset + r.len; s++) got.add(s);
          expect([...got].sort((a, b) => a - b)).toEqual([...want].sort((a, b) => a - b));
        },
      ),
      { numRuns: 300 },
    );
  });
});
