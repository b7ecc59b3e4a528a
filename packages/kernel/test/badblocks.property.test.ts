import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Badblocks, BB_MAX_LEN, MAX_BADBLOCKS } from '../src/lib/badblocks.js';

/** Sectors the operations touch; small enough for a bitmap, large enough for 512-sector entries to matter. */
const SPACE = 4096;

type Op =
  | { t: 'set'; s: number; n: number; ack: boolean }
  | { t: 'clear'; s: number; n: number }
  | { t: 'check'; s: number; n: number };

const range = { s: fc.nat(SPACE - 1), n: fc.integer({ min: 1, max: 1200 }) };
const op = (ack: fc.Arbitrary<boolean>): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant('set' as const), ...range, ack }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('clear' as const), ...range }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('check' as const), ...range }) },
  );

/** The table's invariants: sorted, disjoint, 1..512 sectors an entry, at most a page of entries. */
function checkInvariants(bb: Badblocks): void {
  const r = bb.ranges();
  expect(r.length).toBe(bb.count);
  expect(r.length).toBeLessThanOrEqual(MAX_BADBLOCKS);
  const bad = r.findIndex(
    (e, i) => e.len < 1 || e.len > BB_MAX_LEN || (i > 0 && r[i - 1]!.offset + r[i - 1]!.len > e.offset),
  );
  expect(bad === -1 ? null : r.slice(Math.max(0, bad - 1), bad + 1)).toBe(null);
  if (!bb.unackedExist) expect(r.every((e) => e.ack)).toBe(true);
}

/** Index of the first sector where two bitmaps differ, or -1 (one assertion instead of thousands). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Room for every sector the operations can reach (a set may start at SPACE - 1 and run 1200 sectors). */
const BITS = SPACE + 1200;
/** Where the near-full test parks its filler entries, above everything the sets reach. */
const FILLER = 8192;

function bitmapOf(bb: Badblocks, size = BITS): Uint8Array {
  const bits = new Uint8Array(size);
  for (const e of bb.ranges()) bits.fill(1, e.offset, e.offset + e.len);
  return bits;
}

/** Runs `ops` against the table and a bitmap of bad sectors, comparing after each. */
function run(ops: Op[], onCheck?: (bb: Badblocks, o: Op, rv: number) => void): void {
  const bb = new Badblocks();
  const model = new Uint8Array(BITS);
  for (const o of ops) {
    if (o.t === 'set') {
      expect(bb.set(o.s, o.n, o.ack)).toBe(0);
      model.fill(1, o.s, o.s + o.n);
    } else if (o.t === 'clear') {
      expect(bb.clear(o.s, o.n)).toBe(0);
      model.fill(0, o.s, o.s + o.n);
    } else {
      const got = bb.check(o.s, o.n);
      const first = model.subarray(o.s, o.s + o.n).indexOf(1);
      if (first < 0) {
        expect(got).toEqual({ rv: 0, firstBad: 0, badSectors: 0 });
      } else {
        const x = o.s + first;
        expect(got.rv).not.toBe(0);
        // the reported entry holds the first bad sector of the window and is bad throughout
        expect(got.firstBad).toBeLessThanOrEqual(x);
        expect(got.firstBad + got.badSectors).toBeGreaterThan(x);
        expect(model.subarray(got.firstBad, got.firstBad + got.badSectors).every((b) => b === 1)).toBe(true);
        const overlapping = bb.ranges().filter((e) => e.offset < o.s + o.n && e.offset + e.len > o.s);
        expect(got.rv).toBe(overlapping.every((e) => e.ack) ? 1 : -1);
      }
      onCheck?.(bb, o, got.rv);
    }
    checkInvariants(bb);
    expect(firstDiff(bitmapOf(bb), model)).toBe(-1);
  }
}

describe('badblocks against a bitmap of bad sectors', () => {
  // At most 100 operations of at most 3 entries each stay below MAX_BADBLOCKS, so no set may fail.
  it('set/clear/check agree with the bitmap; the table stays sorted, disjoint and bounded', () => {
    fc.assert(
      fc.property(fc.array(op(fc.boolean()), { maxLength: 100 }), (ops) => run(ops)),
      { numRuns: 400 },
    );
  });

  it('with every set acknowledged, check never reports unacknowledged sectors', () => {
    fc.assert(
      fc.property(fc.array(op(fc.constant(true)), { maxLength: 60 }), (ops) =>
        run(ops, (_bb, _o, rv) => expect(rv).not.toBe(-1)),
      ),
      { numRuns: 200 },
    );
  });

  it('with every set unacknowledged, any bad sector checks as -1', () => {
    fc.assert(
      fc.property(fc.array(op(fc.constant(false)), { maxLength: 60 }), (ops) =>
        run(ops, (_bb, _o, rv) => expect(rv).not.toBe(1)),
      ),
      { numRuns: 200 },
    );
  });

  it('show lists exactly the table; store of each line rebuilds the same bad sectors', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ s: fc.nat(SPACE - 1), n: fc.integer({ min: 1, max: 1200 }) }), {
          maxLength: 40,
        }),
        (sets) => {
          const bb = new Badblocks();
          for (const { s, n } of sets) bb.set(s, n, true);
          const text = bb.show();
          expect(text).toBe(
            bb
              .ranges()
              .map((e) => `${e.offset} ${e.len}\n`)
              .join(''),
          );
          const copy = new Badblocks();
          for (const line of text.split('\n').filter((l) => l !== '')) copy.store(`${line}\n`);
          expect(firstDiff(bitmapOf(copy), bitmapOf(bb))).toBe(-1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('near a full table, a set either records its whole range or fails changing nothing', () => {
    let failures = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ s: fc.nat(SPACE - 1), n: fc.integer({ min: 1, max: 1200 }) }), {
          maxLength: 30,
        }),
        (sets) => {
          const bb = new Badblocks();
          // all but a few slots hold single sectors far above the space the sets use
          for (let i = 0; i < MAX_BADBLOCKS - 4; i++) bb.set(FILLER + i * 4, 1, true);
          const size = FILLER + 4 * MAX_BADBLOCKS;
          const model = bitmapOf(bb, size);
          for (const { s, n } of sets) {
            const before = bb.ranges();
            const rv = bb.set(s, n, true);
            if (rv === 0) model.fill(1, s, s + n);
            else {
              failures++;
              expect(bb.count).toBeGreaterThan(MAX_BADBLOCKS - 3);
              expect(bb.ranges()).toEqual(before);
            }
            checkInvariants(bb);
            expect(firstDiff(bitmapOf(bb, size), model)).toBe(-1);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(failures).toBeGreaterThan(0);
  });
});
