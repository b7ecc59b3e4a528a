import { describe, expect, it } from 'vitest';
import { klistFind, klistWalk } from '../src/lib/klist.js';

describe('klist walks (lib/klist.c)', () => {
  it('skips entries removed during the walk and does not visit entries added during it', () => {
    const list = ['a', 'b', 'c', 'd'];
    const seen: string[] = [];
    klistWalk(list, (x) => {
      seen.push(x);
      if (x === 'a') list.splice(list.indexOf('c'), 1);
      if (x === 'b') list.push('e');
    });
    expect(seen).toEqual(['a', 'b', 'd']);
  });

  it('stops at the first truthy result and returns it; starts after `start`', () => {
    const list = [1, 2, 3, 4];
    expect(klistWalk(list, (x) => (x === 3 ? 42 : 0))).toBe(42);
    const seen: number[] = [];
    expect(klistWalk(list, (x) => void seen.push(x), 2)).toBe(0);
    expect(seen).toEqual([3, 4]);
    expect(klistFind(list, (x) => x % 2 === 0)).toBe(2);
    expect(klistFind(list, (x) => x % 2 === 0, 2)).toBe(4);
    expect(klistFind(list, (x) => x > 9)).toBeUndefined();
  });
});
