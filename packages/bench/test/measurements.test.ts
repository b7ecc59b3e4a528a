import { describe, expect, it } from 'vitest';
import { daxInode } from '../src/dax_inode.js';
import { ida } from '../src/ida.js';
import { srcu } from '../src/srcu.js';
import { evaluate } from '../src/table.js';

const positive = (x: number) => Number.isFinite(x) && x > 0;

describe('measurements, in tiny runs', () => {
  it('srcu: SrcuStruct and dax_read_lock rows beside the counter pair', async () => {
    const rows = (await srcu({ pairs: 1000, rounds: 3, warmup: 1 })).map(evaluate);
    expect(rows.map((r) => [r.key, r.value.unit, r.baseline?.label, r.pass])).toEqual([
      ['srcu.srcu', 'ns', 'counter inc + dec', null],
      ['srcu.dax', 'ns', 'counter inc + dec', null],
    ]);
    expect(rows.every((r) => positive(r.value.value) && positive(r.ratio!))).toBe(true);
  });

  it('ida: churn and allocation at the large population beside the small one', async () => {
    const rows = await ida({
      small: 10,
      large: 2000,
      churn: 500,
      allocs: 200,
      batch: 100,
      rounds: 3,
      warmup: 1,
    });
    expect(rows.map((r) => [r.key, r.measure, r.baseline?.label])).toEqual([
      ['ida.churn', 'ida_simple_get + ida_simple_remove, 2k live', '10 live'],
      ['ida.alloc', 'ida_simple_get growing the IDA, 2k live', '10 live'],
    ]);
    expect(rows.every((r) => positive(r.value.value))).toBe(true);
  });

  it('dax_inode: a lifetime at the large population, judged against the 1.5x target', async () => {
    const [row, ...rest] = await daxInode({
      small: 10,
      large: 1000,
      ops: 64,
      batch: 32,
      rounds: 3,
      warmup: 1,
    });
    expect(rest).toEqual([]);
    expect(row!.measure).toBe('allocDaxInode + killDaxInode + putDaxInode, 1k live');
    expect(row!.target).toEqual({ of: 'ratio', cmp: '<=', limit: 1.5, source: 'issue 6' });
    expect(typeof evaluate(row!).pass).toBe('boolean');
  });
});
