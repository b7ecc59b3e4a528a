import { describe, expect, it } from 'vitest';
import { type FileSystemType, Filesystems } from '../src/fs/filesystems.js';
import { Inode, iget5Locked, iput, unlockNewInode } from '../src/fs/inode.js';
import { genericDeleteInode, killAnonSuper, mountPseudo } from '../src/fs/super.js';
import { Printk } from '../src/kernel/printk.js';

const byRdev = (i: Inode, d: number) => i.rdev === d;
const setRdev = (i: Inode, d: number) => {
  i.rdev = d;
};

function mount() {
  const log = new Printk();
  const fs = new Filesystems(log);
  const type: FileSystemType = {
    name: 'hashfs',
    mount: () =>
      mountPseudo(
        log,
        'hashfs:',
        { allocInode: (sb) => new Inode(sb), dropInode: genericDeleteInode },
        0x4861,
      ),
    killSb: killAnonSuper,
  };
  fs.registerFilesystem(type);
  return { log, sb: fs.kernMount(type).sb };
}

describe('inode hash (fs/inode.c inode_hashtable) as it grows', () => {
  it('finds each of thousands of inodes by hash value and key, through every growth of the table', () => {
    const { sb } = mount();
    // Hash values 0..1999 with two keys each; many hash values share a chain at every table size.
    const inodes = new Map<string, Inode>();
    for (let h = 0; h < 2000; h++)
      for (const key of [h, h + 100_000]) {
        const inode = iget5Locked(sb, h, byRdev, setRdev, key)!;
        unlockNewInode(inode);
        inodes.set(`${h}/${key}`, inode);
      }
    expect(sb.inodes.size).toBe(4000);
    for (const [id, inode] of inodes) {
      const [h, key] = id.split('/').map(Number) as [number, number];
      expect(iget5Locked(sb, h, byRdev, setRdev, key)).toBe(inode);
      expect(inode.count).toBe(2);
      iput(inode);
    }
  });

  it('an evicted inode is gone from its chain; the same key then gets a new inode', () => {
    const { sb } = mount();
    const keep = Array.from({ length: 300 }, (_, i) => {
      const inode = iget5Locked(sb, i % 7, byRdev, setRdev, i)!;
      unlockNewInode(inode);
      return inode;
    });
    const victim = keep[150]!;
    iput(victim);
    expect(victim.hashed).toBe(false);
    expect(sb.hashChain(150 % 7)).not.toContain(victim);
    const fresh = iget5Locked(sb, 150 % 7, byRdev, setRdev, 150)!;
    expect(fresh).not.toBe(victim);
    expect(iget5Locked(sb, 151 % 7, byRdev, setRdev, 151)).toBe(keep[151]);
    expect(sb.inodes.size).toBe(300);
  });

  it('a key under another hash value is not found, even when both values share a chain', () => {
    const { sb } = mount();
    const found = new Set<Inode>();
    for (let h = 0; h < 200; h++) {
      const inode = iget5Locked(sb, h, byRdev, setRdev, 42)!;
      unlockNewInode(inode);
      found.add(inode);
    }
    expect(found.size).toBe(200);
    expect(sb.inodes.size).toBe(200);
  });
});
