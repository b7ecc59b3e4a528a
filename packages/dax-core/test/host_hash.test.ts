import { describe, expect, it } from 'vitest';
import { bootDax } from './fixtures.js';

describe('dax host hash (dax_host_list, hlist_add_head / hlist_del)', () => {
  it('with two live inodes under one host, lookup finds the newer, as a walk from the hlist head does', async () => {
    await using f = await bootDax();
    const older = f.dax.allocDaxInode('older', 'pmem0')!;
    const newer = f.dax.allocDaxInode('newer', 'pmem0')!;
    const got = f.dax.daxGetByHost('pmem0');
    expect(got).toBe(newer);
    f.dax.putDaxInode(got);
    await f.dax.killDaxInode(newer);
    const next = f.dax.daxGetByHost('pmem0');
    expect(next).toBe(older);
    f.dax.putDaxInode(next);
    await f.dax.killDaxInode(older);
    expect(f.dax.daxGetByHost('pmem0')).toBeNull();
    expect(f.dax.stats().hosts).toBe(0);
    for (const d of [older, newer]) f.dax.putDaxInode(d);
  });

  it('an inode unhashed in the middle of a bucket leaves the others findable', async () => {
    await using f = await bootDax({ nr_dax: 4096 });
    const all = Array.from({ length: 3000 }, (_, i) => f.dax.allocDaxInode(i, `pmem${i}`)!);
    for (let i = 0; i < all.length; i += 3) await f.dax.killDaxInode(all[i]!);
    expect(f.dax.stats().hosts).toBe(2000);
    for (let i = 0; i < all.length; i++) {
      const got = f.dax.daxGetByHost(`pmem${i}`);
      expect(got).toBe(i % 3 === 0 ? null : all[i]);
      f.dax.putDaxInode(got);
    }
    for (let i = 0; i < all.length; i++) if (i % 3 !== 0) await f.dax.killDaxInode(all[i]!);
    for (const d of all) f.dax.putDaxInode(d);
  });
});
