import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KernelError } from '../src/errno.js';
import { Printk } from '../src/kernel/printk.js';
import { IDA_MAX, Ida } from '../src/lib/idr.js';

const INT_MAX = 0x7fffffff;

function fresh(): { log: Printk; ida: Ida } {
  const log = new Printk();
  return { log, ida: new Ida(log, 'test_ida') };
}

function thrown(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (e) {
    return e as KernelError;
  }
  throw new Error('expected a throw');
}

function fill(ida: Ida, n: number, start = 0): void {
  for (let i = 0; i < n; i++) expect(ida.simpleGet(start)).toBe(start + i);
}

describe('Ida.simpleGet', () => {
  it('hands out the lowest free id, starting at 0', () => {
    const { ida } = fresh();
    expect([ida.simpleGet(), ida.simpleGet(), ida.simpleGet()]).toEqual([0, 1, 2]);
    expect(ida.count).toBe(3);
    expect(ida.isEmpty()).toBe(false);
  });

  it('reuses the lowest freed id first', () => {
    const { ida } = fresh();
    fill(ida, 10);
    ida.simpleRemove(7);
    ida.simpleRemove(3);
    expect(ida.has(3)).toBe(false);
    expect(ida.simpleGet()).toBe(3);
    expect(ida.simpleGet()).toBe(7);
    expect(ida.simpleGet()).toBe(10);
  });

  it('allocates at or above start, below end', () => {
    const { ida } = fresh();
    expect(ida.simpleGet(5, 8)).toBe(5);
    expect(ida.simpleGet(5, 8)).toBe(6);
    expect(ida.simpleGet(5, 8)).toBe(7);
    expect(ida.simpleGet(0, 8)).toBe(0);
    expect(ida.simpleGet(4)).toBe(4);
    expect(ida.simpleGet(4)).toBe(8);
    expect(ida.simpleGet(100, 101)).toBe(100);
    expect([...ida.ids()]).toEqual([0, 4, 5, 6, 7, 8, 100]);
  });

  it('fails with ENOSPC when the range is full, and changes nothing', () => {
    const { ida } = fresh();
    expect(ida.simpleGet(1, 3)).toBe(1);
    expect(ida.simpleGet(1, 3)).toBe(2);
    const e = thrown(() => ida.simpleGet(1, 3));
    expect(e.code).toBe('ENOSPC');
    expect(e.errno).toBe(-28);
    expect(e.syscall).toBe('ida_simple_get');
    expect(e.message).toBe('ENOSPC: no space left on device, ida_simple_get');
    expect(ida.count).toBe(2);
    expect([...ida.ids()]).toEqual([1, 2]);
    expect(ida.simpleGet()).toBe(0);
  });

  it('treats end === start as an empty range (ENOSPC), as the kernel does', () => {
    const { ida } = fresh();
    expect(thrown(() => ida.simpleGet(4, 4)).code).toBe('ENOSPC');
    expect(ida.isEmpty()).toBe(true);
  });

  it.each([
    [-1, 0],
    [0, -1],
    [5, 4],
    [1.5, 0],
    [0, 2.5],
    [Number.NaN, 0],
    [IDA_MAX, 0],
    [0, IDA_MAX],
    [0, Number.POSITIVE_INFINITY],
  ])('rejects start=%s end=%s with EINVAL (the kernel BUG_ONs)', (start, end) => {
    const { ida } = fresh();
    ida.simpleGet();
    const e = thrown(() => ida.simpleGet(start, end));
    expect(e.code).toBe('EINVAL');
    expect(e.errno).toBe(-22);
    expect(e.syscall).toBe('ida_simple_get');
    expect(ida.count).toBe(1);
    expect([...ida.ids()]).toEqual([0]);
  });

  it('crosses word boundaries (31, 32, 33)', () => {
    const { ida } = fresh();
    expect(ida.simpleGet(31)).toBe(31);
    expect(ida.simpleGet(31)).toBe(32);
    expect(ida.simpleGet(31)).toBe(33);
    expect(ida.simpleGet(30, 34)).toBe(30);
    expect(thrown(() => ida.simpleGet(30, 34)).code).toBe('ENOSPC');
    fill(ida, 30);
    expect(ida.simpleGet()).toBe(34);
  });

  it('crosses bitmap boundaries (1023, 1024, 1025) and fills a whole bitmap', () => {
    const { ida } = fresh();
    expect(ida.simpleGet(1023)).toBe(1023);
    expect(ida.simpleGet(1023)).toBe(1024);
    expect(ida.simpleGet(1023)).toBe(1025);
    fill(ida, 1023);
    expect(ida.simpleGet()).toBe(1026);
    ida.simpleRemove(1024);
    expect(ida.simpleGet(1000)).toBe(1024);
    expect(thrown(() => ida.simpleGet(0, 1027)).code).toBe('ENOSPC');
    expect(ida.simpleGet(0, 1028)).toBe(1027);
    expect(ida.count).toBe(1028);
  });

  it('crosses node boundaries (32767, 32768, 32769) with the first 32768 ids full', () => {
    const { ida } = fresh();
    fill(ida, 32768 + 40);
    for (const id of [31, 1023, 32767, 32768, 32770]) ida.simpleRemove(id);
    expect(ida.simpleGet()).toBe(31);
    expect(ida.simpleGet(32)).toBe(1023);
    expect(ida.simpleGet(1024)).toBe(32767);
    expect(ida.simpleGet(1024)).toBe(32768);
    expect(ida.simpleGet(1024)).toBe(32770);
    expect(ida.simpleGet(1024)).toBe(32768 + 40);
    expect(thrown(() => ida.simpleGet(0, 32768)).code).toBe('ENOSPC');
    expect(ida.count).toBe(32768 + 41);
  });

  it('finds the free id past a full 2^20-id subtree', () => {
    const { ida } = fresh();
    const n = (1 << 20) + 3;
    for (let i = 0; i < n; i++) ida.simpleGet();
    expect(ida.count).toBe(n);
    expect(ida.simpleGet()).toBe(n);
    expect(ida.simpleGet(5)).toBe(n + 1);
    ida.simpleRemove(1 << 19);
    expect(ida.simpleGet(7)).toBe(1 << 19);
    expect(thrown(() => ida.simpleGet(0, 1 << 20)).code).toBe('ENOSPC');
  });

  it('allocates the largest ids without allocating up to them', () => {
    const { ida } = fresh();
    const got: number[] = [];
    for (let i = 0; i < 16; i++) got.push(ida.simpleGet(0x7ffffff0));
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => 0x7ffffff0 + i));
    expect(ida.has(INT_MAX)).toBe(true);
    expect(thrown(() => ida.simpleGet(0x7ffffff0)).code).toBe('ENOSPC');
    expect(thrown(() => ida.simpleGet(INT_MAX)).code).toBe('ENOSPC');
    expect(ida.simpleGet()).toBe(0);
    expect(ida.simpleGet(1 << 30)).toBe(1 << 30);
    expect(ida.count).toBe(18);
    ida.simpleRemove(0x7ffffff8);
    expect(ida.simpleGet(0x7ffffff1)).toBe(0x7ffffff8);
  });

  it('cannot hand out 0x7fffffff under an explicit end (end must be <= INT_MAX)', () => {
    const { ida } = fresh();
    expect(ida.simpleGet(INT_MAX - 1, INT_MAX)).toBe(INT_MAX - 1);
    expect(thrown(() => ida.simpleGet(INT_MAX - 1, INT_MAX)).code).toBe('ENOSPC');
    expect(ida.simpleGet(INT_MAX - 1)).toBe(INT_MAX);
  });
});

describe('Ida.simpleRemove', () => {
  it('frees an id', () => {
    const { ida, log } = fresh();
    fill(ida, 3);
    ida.simpleRemove(1);
    expect(ida.has(1)).toBe(false);
    expect(ida.has(0)).toBe(true);
    expect(ida.count).toBe(2);
    expect(log.warnings).toBe(0);
  });

  it('warns on a double remove and changes nothing', () => {
    const { ida, log } = fresh();
    fill(ida, 3);
    ida.simpleRemove(1);
    ida.simpleRemove(1);
    expect(log.warnings).toBe(1);
    const dmesg = log.dmesg().join('\n');
    expect(dmesg).toContain('WARNING: at lib/idr.c:ida_remove');
    expect(dmesg).toContain('ida_remove called for id=1 which is not allocated.');
    expect(ida.count).toBe(2);
    expect([...ida.ids()]).toEqual([0, 2]);
  });

  it('warns on removing an id never allocated, in or out of the populated range', () => {
    const { ida, log } = fresh();
    ida.simpleRemove(0);
    fill(ida, 2);
    ida.simpleRemove(5);
    ida.simpleRemove(1 << 30);
    expect(log.warnings).toBe(3);
    expect(log.dmesg().join('\n')).toContain(`ida_remove called for id=${1 << 30} which is not allocated.`);
    expect([...ida.ids()]).toEqual([0, 1]);
  });

  it('rejects ids no IDA can hold with EINVAL (the kernel BUG_ONs)', () => {
    const { ida, log } = fresh();
    fill(ida, 1);
    for (const id of [-1, 0.5, IDA_MAX]) {
      const e = thrown(() => ida.simpleRemove(id));
      expect(e.code).toBe('EINVAL');
      expect(e.syscall).toBe('ida_simple_remove');
    }
    expect(log.warnings).toBe(0);
    expect(ida.count).toBe(1);
  });

  it('emptying the IDA leaves it usable from 0 again', () => {
    const { ida } = fresh();
    const big = ida.simpleGet(1 << 30);
    ida.simpleRemove(big);
    expect(ida.isEmpty()).toBe(true);
    expect([...ida.ids()]).toEqual([]);
    expect(ida.simpleGet()).toBe(0);
    expect(ida.simpleGet(1 << 30)).toBe(1 << 30);
  });
});

describe('Ida bookkeeping', () => {
  it('counts live ids and destroy() frees them all', () => {
    const { ida, log } = fresh();
    fill(ida, 2000);
    ida.simpleGet(1 << 25);
    expect(ida.count).toBe(2001);
    ida.destroy();
    expect(ida.count).toBe(0);
    expect(ida.isEmpty()).toBe(true);
    expect(ida.has(0)).toBe(false);
    expect(ida.has(1 << 25)).toBe(false);
    expect([...ida.ids()]).toEqual([]);
    expect(ida.simpleGet()).toBe(0);
    expect(log.warnings).toBe(0);
  });

  it('ids() lists ids in ascending order', () => {
    const { ida } = fresh();
    for (const s of [1 << 30, 33, 70000, 1, 1025, 31]) ida.simpleGet(s);
    expect([...ida.ids()]).toEqual([1, 31, 33, 1025, 70000, 1 << 30]);
  });

  it('has() is false for ids no IDA can hold', () => {
    const { ida } = fresh();
    ida.simpleGet();
    expect(ida.has(0)).toBe(true);
    expect(ida.has(-1)).toBe(false);
    expect(ida.has(0.5)).toBe(false);
    expect(ida.has(IDA_MAX)).toBe(false);
  });

  it('keeps separate IDAs apart', () => {
    const log = new Printk();
    const a = new Ida(log, 'a');
    const b = new Ida(log, 'b');
    expect(a.simpleGet()).toBe(0);
    expect(b.simpleGet()).toBe(0);
    expect(a.name).toBe('a');
  });
});

/** The reference: a Set of live ids and a linear search, with the kernel's argument checks. */
class NaiveIda {
  readonly live = new Set<number>();

  get(start: number, end: number): number | 'EINVAL' | 'ENOSPC' {
    const ok = (x: number) => Number.isInteger(x) && x >= 0 && x <= INT_MAX;
    if (!ok(start) || !ok(end) || (end !== 0 && end < start)) return 'EINVAL';
    const limit = end === 0 ? IDA_MAX : end;
    for (let id = start; id < limit; id++) {
      if (!this.live.has(id)) {
        this.live.add(id);
        return id;
      }
    }
    return 'ENOSPC';
  }

  /** False when `id` was not allocated (the IDA warns). */
  remove(id: number): boolean {
    return this.live.delete(id);
  }
}

const BASES = [0, 20, 1000, 1010, 32740, (1 << 20) - 20, (1 << 25) - 10, 0x7fffffc0, 0x7ffffff0];
const idArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 70 }) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...BASES), fc.integer({ min: 0, max: 60 }))
      .map(([b, o]) => Math.min(b + o, INT_MAX)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: INT_MAX }) },
);
const badArb = fc.constantFrom(-1, -0x80000000, 2.5, IDA_MAX, 0xffffffff, Number.NaN);

type Op =
  | { kind: 'get'; start: number; end: number }
  | { kind: 'removeLive'; pick: number }
  | { kind: 'remove'; id: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(idArb, fc.oneof(fc.constant(null), fc.integer({ min: -2, max: 70 })))
      .map(([start, w]): Op => ({ kind: 'get', start, end: w === null ? 0 : Math.max(0, start + w) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(idArb, badArb), fc.oneof(fc.constant(0), idArb, badArb))
      .map(([start, end]): Op => ({ kind: 'get', start, end })),
  },
  { weight: 3, arbitrary: fc.nat().map((pick): Op => ({ kind: 'removeLive', pick })) },
  { weight: 1, arbitrary: idArb.map((id): Op => ({ kind: 'remove', id })) },
);

function runAgainstModel(ida: Ida, log: Printk, model: NaiveIda, ops: Op[]): void {
  for (const op of ops) {
    if (op.kind === 'get') {
      const want = model.get(op.start, op.end);
      let got: number | string;
      try {
        got = ida.simpleGet(op.start, op.end);
      } catch (e) {
        const err = e as KernelError;
        expect(err.syscall).toBe('ida_simple_get');
        got = err.code;
      }
      expect(got, `simpleGet(${op.start}, ${op.end})`).toBe(want);
    } else {
      let id: number;
      if (op.kind === 'removeLive') {
        const live = [...model.live];
        if (live.length === 0) continue;
        id = live[op.pick % live.length]!;
      } else {
        id = op.id;
      }
      const warnings = log.warnings;
      const wasLive = model.remove(id);
      ida.simpleRemove(id);
      expect(log.warnings, `simpleRemove(${id})`).toBe(warnings + (wasLive ? 0 : 1));
      expect(ida.has(id)).toBe(false);
    }
    expect(ida.count).toBe(model.live.size);
  }
  expect([...ida.ids()]).toEqual([...model.live].sort((a, b) => a - b));
  for (const id of model.live) expect(ida.has(id)).toBe(true);
}

describe('Ida against a naive model', () => {
  it('agrees on random sequences of get and remove', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const { ida, log } = fresh();
        runAgainstModel(ida, log, new NaiveIda(), ops);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees after dense prefills that fill words and bitmaps', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BASES),
        fc.integer({ min: 0, max: 2100 }),
        fc.array(opArb, { maxLength: 150 }),
        (base, prefill, ops) => {
          const { ida, log } = fresh();
          const model = new NaiveIda();
          for (let id = base; id < base + prefill; id++) {
            if (id > INT_MAX) {
              expect(thrown(() => ida.simpleGet(base)).code).toBe('ENOSPC');
              break;
            }
            expect(ida.simpleGet(base)).toBe(id);
            model.live.add(id);
          }
          runAgainstModel(ida, log, model, ops);
        },
      ),
      { numRuns: 200 },
    );
  });
});
