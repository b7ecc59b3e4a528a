import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../src/include/pfn_t.js';
import { Badblocks, BB_MAX_LEN, MAX_BADBLOCKS } from '../src/lib/badblocks.js';
import { caught } from './toy_chrdev.js';

const errno = (code: string) => expect.objectContaining({ code });

function table(bb: Badblocks): Array<[number, number, boolean]> {
  return bb.ranges().map((r) => [r.offset, r.len, r.ack]);
}

describe('badblocks_set (block/badblocks.c)', () => {
  it('records a range and shows it as "<start> <len>\\n"', () => {
    const bb = new Badblocks();
    expect(bb.set(100, 8, true)).toBe(0);
    expect(bb.count).toBe(1);
    expect(bb.show()).toBe('100 8\n');
    expect(bb.changed).toBe(true);
    expect(bb.unackedExist).toBe(false);
  });

  it('keeps entries sorted whatever the insertion order', () => {
    const bb = new Badblocks();
    bb.set(300, 1, true);
    bb.set(100, 2, true);
    bb.set(200, 3, true);
    expect(bb.show()).toBe('100 2\n200 3\n300 1\n');
  });

  it('merges a range touching the end of an entry, and one touching the start of the next', () => {
    const bb = new Badblocks();
    bb.set(0, 8, true);
    bb.set(8, 8, true);
    expect(table(bb)).toEqual([[0, 16, true]]);
    bb.set(32, 8, true);
    bb.set(24, 8, true);
    expect(table(bb)).toEqual([
      [0, 16, true],
      [24, 16, true],
    ]);
    bb.set(16, 8, true);
    expect(table(bb)).toEqual([[0, 40, true]]);
  });

  it('setting a range inside an entry changes nothing but the ack', () => {
    const bb = new Badblocks();
    bb.set(10, 20, true);
    bb.set(12, 4, true);
    expect(table(bb)).toEqual([[10, 20, true]]);
    bb.set(12, 4, false);
    expect(table(bb)).toEqual([[10, 20, false]]);
    expect(bb.unackedExist).toBe(true);
    // a set that covers the whole entry from its start replaces the ack
    bb.set(10, 20, true);
    expect(table(bb)).toEqual([[10, 20, true]]);
    expect(bb.unackedExist).toBe(false);
  });

  it('splits a range longer than 512 sectors into maximal entries, in ascending order', () => {
    const bb = new Badblocks();
    bb.set(0, 2048, true);
    expect(bb.show()).toBe('0 512\n512 512\n1024 512\n1536 512\n');
    const bb2 = new Badblocks();
    bb2.set(1000, 1100, false);
    expect(table(bb2)).toEqual([
      [1000, 512, false],
      [1512, 512, false],
      [2024, 76, false],
    ]);
  });

  it('extends an entry to 512 sectors at most and starts a new one for the rest', () => {
    const bb = new Badblocks();
    bb.set(0, 500, true);
    bb.set(400, 200, true);
    expect(table(bb)).toEqual([
      [0, 512, true],
      [512, 88, true],
    ]);
  });

  it('does not fold two touching entries whose sum would reach 512 sectors', () => {
    const bb = new Badblocks();
    bb.set(0, 256, true);
    bb.set(300, 212, true);
    bb.set(256, 44, true);
    // the kernel combines only below BB_MAX_LEN: 300 + 212 = 512 stays two entries
    expect(table(bb)).toEqual([
      [0, 300, true],
      [300, 212, true],
    ]);
    expect(BB_MAX_LEN).toBe(512);
  });

  it('a range swallowing several entries records every sector in one entry', () => {
    const bb = new Badblocks();
    bb.set(10, 10, true);
    bb.set(30, 10, false);
    bb.set(50, 10, true);
    bb.set(0, 100, true);
    expect(table(bb)).toEqual([[0, 100, true]]);
    const bb2 = new Badblocks();
    bb2.set(0, 10, true);
    bb2.set(20, 10, true);
    bb2.set(10, 30, true);
    expect(table(bb2)).toEqual([[0, 40, true]]);
  });

  it('a merged entry ending inside a long next entry leaves no overlap', () => {
    const bb = new Badblocks();
    bb.set(0, 10, true);
    bb.set(20, 500, false);
    bb.set(5, 25, true);
    expect(table(bb)).toEqual([
      [0, 30, false],
      [30, 490, false],
    ]);
  });

  it('returns 1, changing nothing, when the table has no room for the entries a range needs', () => {
    const bb = new Badblocks();
    for (let i = 0; i < MAX_BADBLOCKS; i++) expect(bb.set(i * 10, 1, true)).toBe(0);
    expect(bb.count).toBe(512);
    expect(bb.set(100000, 1, true)).toBe(1);
    expect(bb.count).toBe(512);
    // merging into an existing entry still works when full
    expect(bb.set(1, 1, true)).toBe(0);
    expect(bb.ranges()[0]).toEqual({ offset: 0, len: 2, ack: true });
    const big = new Badblocks();
    for (let i = 0; i < MAX_BADBLOCKS - 1; i++) big.set(i * 10, 1, true);
    big.changed = false;
    const before = table(big);
    expect(big.set(10000, 1024, true)).toBe(1);
    expect(table(big)).toEqual(before);
    expect(big.changed).toBe(false);
    // an entry that would have to move part of itself into a new slot keeps all of its sectors
    const moved = new Badblocks();
    for (let i = 0; i < MAX_BADBLOCKS - 1; i++) moved.set(100000 + i * 10, 1, true);
    moved.set(3, 512, true);
    expect(moved.set(2, 1, true)).toBe(1);
    expect(moved.ranges()[0]).toEqual({ offset: 3, len: 512, ack: true });
    expect(moved.set(2, 1, true)).toBe(1);
  });

  it('throws EINVAL for arguments that are not sector numbers, changing nothing', () => {
    const bb = new Badblocks();
    bb.set(1, 1, true);
    for (const [s, n] of [
      [-1, 1],
      [1.5, 1],
      [0, -1],
      [0, 0.5],
      [0, 2 ** 31],
      [2 ** 53, 1],
      [Number.MAX_SAFE_INTEGER, 1],
      [Number.NaN, 1],
    ] as const) {
      expect(caught(() => bb.set(s, n, true))).toMatchObject({ code: 'EINVAL', syscall: 'badblocks_set' });
      expect(() => bb.clear(s, n)).toThrow(errno('EINVAL'));
      expect(() => bb.check(s, n)).toThrow(errno('EINVAL'));
    }
    expect(table(bb)).toEqual([[1, 1, true]]);
  });

  it('handles sectors up to 2^53', () => {
    const bb = new Badblocks();
    const top = Number.MAX_SAFE_INTEGER - 8;
    expect(bb.set(top, 8, true)).toBe(0);
    expect(bb.show()).toBe(`${top} 8\n`);
    expect(bb.check(top + 7, 1)).toEqual({ rv: 1, firstBad: top, badSectors: 8 });
  });
});

describe('badblocks_clear', () => {
  it('trims the start, the end, and removes covered entries', () => {
    const bb = new Badblocks();
    bb.set(0, 10, true);
    bb.set(20, 10, true);
    bb.set(40, 10, true);
    expect(bb.clear(5, 40)).toBe(0);
    expect(table(bb)).toEqual([
      [0, 5, true],
      [45, 5, true],
    ]);
  });

  it('splits an entry when clearing its middle', () => {
    const bb = new Badblocks();
    bb.set(0, 100, false);
    expect(bb.clear(40, 20)).toBe(0);
    expect(table(bb)).toEqual([
      [0, 40, false],
      [60, 40, false],
    ]);
  });

  it('returns -ENOSPC and changes nothing when a split needs an entry in a full table', () => {
    const bb = new Badblocks();
    for (let i = 0; i < MAX_BADBLOCKS; i++) bb.set(i * 10, 5, true);
    const before = table(bb);
    expect(bb.clear(1, 1)).toBe(-28);
    expect(table(bb)).toEqual(before);
    // a clear that needs no split still works
    expect(bb.clear(0, 5)).toBe(0);
    expect(bb.count).toBe(511);
  });

  it('clearing everything of the only unacked entry clears unackedExist', () => {
    const bb = new Badblocks();
    bb.set(0, 8, true);
    bb.set(100, 8, false);
    expect(bb.unackedExist).toBe(true);
    bb.clear(100, 8);
    expect(bb.unackedExist).toBe(false);
    expect(bb.show()).toBe('0 8\n');
  });
});

describe('badblocks_check', () => {
  it('0 for a clean range, 1 for acknowledged, -1 when any overlapping entry is unacknowledged', () => {
    const bb = new Badblocks();
    bb.set(100, 8, true);
    bb.set(200, 8, false);
    expect(bb.check(0, 100)).toEqual({ rv: 0, firstBad: 0, badSectors: 0 });
    expect(bb.check(108, 92)).toEqual({ rv: 0, firstBad: 0, badSectors: 0 });
    expect(bb.check(107, 1)).toEqual({ rv: 1, firstBad: 100, badSectors: 8 });
    expect(bb.check(0, 201)).toEqual({ rv: -1, firstBad: 100, badSectors: 8 });
    expect(bb.check(150, 100)).toEqual({ rv: -1, firstBad: 200, badSectors: 8 });
  });
});

describe('badblocks_show / badblocks_store (sysfs)', () => {
  it('show(unack) lists only unacknowledged entries and resets unackedExist when there are none', () => {
    const bb = new Badblocks();
    bb.set(0, 8, true);
    bb.set(16, 8, false);
    expect(bb.show(true)).toBe('16 8\n');
    bb.set(16, 8, true);
    bb.unackedExist = true;
    expect(bb.show(true)).toBe('');
    expect(bb.unackedExist).toBe(false);
  });

  it('a full table shows what fits in a page', () => {
    const bb = new Badblocks();
    const base = 10 ** 12;
    for (let i = 0; i < MAX_BADBLOCKS; i++) bb.set(base + i * 1000, 512, true);
    const text = bb.show();
    expect(text.length).toBe(PAGE_SIZE - 1);
    expect(text.startsWith(`${base} 512\n${base + 1000} 512\n`)).toBe(true);
    // 18 characters a line: 227 whole lines, then the start of the next
    expect(text.split('\n').length).toBe(Math.floor((PAGE_SIZE - 1) / 18) + 1);
  });

  it('store parses "sector length" with an optional newline and anything after it', () => {
    const bb = new Badblocks();
    bb.store('100 8\n');
    bb.store('  200\t4');
    bb.store('300 2\ngarbage');
    bb.store('400   1\n');
    expect(bb.show()).toBe('100 8\n200 4\n300 2\n400 1\n');
    expect(bb.unackedExist).toBe(false);
    bb.store('500 1', true);
    expect(table(bb).at(-1)).toEqual([500, 1, false]);
  });

  it('store refuses garbage with EINVAL and changes nothing', () => {
    const bb = new Badblocks();
    for (const text of [
      '',
      '\n',
      '100',
      '100\n',
      '108',
      '100 0',
      '100 -8',
      '-100 8',
      '+100 8',
      '100 +8',
      '100 8 ',
      '100 8x',
      '0x10 8',
      'abc 8',
      '100 8.5',
      '9007199254740992 1',
      '100 2147483648',
    ]) {
      expect(caught(() => bb.store(text))).toMatchObject({ code: 'EINVAL', syscall: 'badblocks_store' });
    }
    expect(bb.count).toBe(0);
    expect(bb.changed).toBe(false);
  });

  it('store reports ENOSPC when the table is full', () => {
    const bb = new Badblocks();
    for (let i = 0; i < MAX_BADBLOCKS; i++) bb.set(i * 10, 1, true);
    expect(caught(() => bb.store('99999 1\n'))).toMatchObject({ code: 'ENOSPC' });
  });

  it('ackAll acknowledges every entry only when the table is unchanged since', () => {
    const bb = new Badblocks();
    bb.set(0, 8, false);
    bb.ackAll();
    expect(table(bb)).toEqual([[0, 8, false]]);
    bb.changed = false;
    bb.ackAll();
    expect(table(bb)).toEqual([[0, 8, true]]);
    expect(bb.unackedExist).toBe(false);
  });

  it('a disabled table records nothing and shows nothing', () => {
    const bb = new Badblocks(false);
    expect(bb.shift).toBe(-1);
    expect(bb.set(0, 8, true)).toBe(0);
    bb.store('8 8\n');
    expect(bb.count).toBe(0);
    expect(bb.show()).toBe('');
    expect(bb.check(0, 100).rv).toBe(0);
  });
});
