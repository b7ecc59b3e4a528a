import { describe, expect, it } from 'vitest';
import { Cdev, CharDevices, cdevInit } from '../src/fs/char_dev.js';
import { type FileSystemType, Filesystems } from '../src/fs/filesystems.js';
import { I_FREEING, I_NEW, Inode, iget5Locked, igrab, iput, unlockNewInode } from '../src/fs/inode.js';
import { genericDeleteInode, killAnonSuper, mountPseudo, type SuperBlock } from '../src/fs/super.js';
import { major, minor, mkdev } from '../src/include/kdev_t.js';
import { Printk } from '../src/kernel/printk.js';

function pseudo(log: Printk, drop = genericDeleteInode) {
  const destroyed: Inode[] = [];
  const type: FileSystemType = {
    name: 'testfs',
    mount: () =>
      mountPseudo(
        log,
        'testfs:',
        { allocInode: (sb) => new Inode(sb), destroyInode: (i) => destroyed.push(i), dropInode: drop },
        0x1234,
      ),
    killSb: killAnonSuper,
  };
  return { type, destroyed };
}

const byRdev = (i: Inode, d: number) => i.rdev === d;
const setRdev = (i: Inode, d: number) => {
  i.rdev = d;
};

describe('filesystems and kern_mount (fs/filesystems.c, fs/super.c)', () => {
  it('registers, refuses duplicates, lists nodev types, mounts and unmounts', () => {
    const log = new Printk();
    const fs = new Filesystems(log);
    const { type } = pseudo(log);
    fs.registerFilesystem(type);
    expect(() => fs.registerFilesystem({ ...type })).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    expect(fs.procFilesystems()).toBe('nodev\ttestfs\n');
    const mnt = fs.kernMount(type);
    expect(mnt.sb.magic).toBe(0x1234);
    expect(fs.mounts).toBe(1);
    fs.kernUnmount(mnt);
    expect(fs.mounts).toBe(0);
    fs.unregisterFilesystem(type);
    expect(fs.has('testfs')).toBe(false);
    expect(() => fs.unregisterFilesystem(type)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => fs.kernMount(type)).toThrow(expect.objectContaining({ code: 'ENODEV' }));
  });
});

describe('inode cache (fs/inode.c)', () => {
  function setup() {
    const log = new Printk();
    const fs = new Filesystems(log);
    const p = pseudo(log);
    fs.registerFilesystem(p.type);
    const sb: SuperBlock = fs.kernMount(p.type).sb;
    return { log, sb, destroyed: p.destroyed };
  }

  it('iget5_locked creates a new I_NEW inode once and finds it by key after', () => {
    const { sb } = setup();
    const a = iget5Locked(sb, 7, byRdev, setRdev, 100)!;
    expect(a.state & I_NEW).toBeTruthy();
    expect(a.rdev).toBe(100);
    unlockNewInode(a);
    expect(a.state & I_NEW).toBe(0);
    const again = iget5Locked(sb, 7, byRdev, setRdev, 100)!;
    expect(again).toBe(a);
    expect(a.count).toBe(2);
    const other = iget5Locked(sb, 7, byRdev, setRdev, 101)!;
    expect(other).not.toBe(a);
    expect(sb.inodes.size).toBe(2);
  });

  it('the last iput evicts and destroys; igrab refuses a freeing inode', () => {
    const { sb, destroyed } = setup();
    const a = iget5Locked(sb, 1, byRdev, setRdev, 5)!;
    unlockNewInode(a);
    expect(igrab(a)).toBe(a);
    iput(a);
    expect(destroyed).toEqual([]);
    iput(a);
    expect(destroyed).toEqual([a]);
    expect(a.state & I_FREEING).toBeTruthy();
    expect(sb.inodes.size).toBe(0);
    expect(igrab(a)).toBeNull();
    const fresh = iget5Locked(sb, 1, byRdev, setRdev, 5)!;
    expect(fresh).not.toBe(a);
  });

  it('iput on a dead inode warns and does nothing', () => {
    const { sb, log, destroyed } = setup();
    const a = iget5Locked(sb, 1, byRdev, setRdev, 5)!;
    iput(a);
    iput(a);
    expect(log.warnings).toBe(1);
    expect(destroyed).toHaveLength(1);
  });

  it('unmount evicts cached inodes and reports busy ones', () => {
    const log = new Printk();
    const fs = new Filesystems(log);
    const p = pseudo(log, () => false);
    fs.registerFilesystem(p.type);
    const mnt = fs.kernMount(p.type);
    const cached = iget5Locked(mnt.sb, 1, byRdev, setRdev, 1)!;
    iput(cached);
    expect(p.destroyed).toEqual([]);
    iget5Locked(mnt.sb, 2, byRdev, setRdev, 2);
    fs.kernUnmount(mnt);
    expect(p.destroyed).toEqual([cached]);
    expect(log.dmesg().join('\n')).toContain('VFS: Busy inodes after unmount of testfs:');
  });

  it('allocation failure returns null and leaves nothing hashed', () => {
    const log = new Printk();
    const sb = mountPseudo(log, 'x', { allocInode: () => null }, 1);
    expect(iget5Locked(sb, 1, byRdev, setRdev, 1)).toBeNull();
    expect(sb.hashChain(1)).toEqual([]);
  });
});

describe('chrdev regions and cdevs (fs/char_dev.c)', () => {
  it('hands out dynamic majors from 254 down and lists them in /proc/devices', () => {
    const c = new CharDevices(new Printk());
    const a = c.allocChrdevRegion(0, 256, 'dax');
    const b = c.allocChrdevRegion(0, 1, 'other');
    expect(major(a)).toBe(254);
    expect(minor(a)).toBe(0);
    expect(major(b)).toBe(253);
    expect(c.procDevices()).toBe('Character devices:\n253 other\n254 dax\n');
    c.unregisterChrdevRegion(a, 256);
    expect(c.allocChrdevRegion(0, 4, 'again')).toBe(mkdev(254, 0));
  });

  it('refuses overlapping fixed regions and bad ranges', () => {
    const c = new CharDevices(new Printk());
    c.registerChrdevRegion(mkdev(10, 0), 10, 'a');
    expect(() => c.registerChrdevRegion(mkdev(10, 5), 10, 'b')).toThrow(
      expect.objectContaining({ code: 'EBUSY' }),
    );
    c.registerChrdevRegion(mkdev(10, 10), 10, 'b');
    expect(() => c.allocChrdevRegion(0, 0, 'z')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(c.counts.regions).toBe(2);
  });

  it('cdev_add maps a dev_t range, pins the parent, and cdev_del undoes both', () => {
    const c = new CharDevices(new Printk());
    let refs = 0;
    const parent = { get: () => refs++, put: () => refs-- };
    const cdev = new Cdev();
    cdevInit(cdev, {});
    cdev.parent = parent;
    c.cdevAdd(cdev, mkdev(254, 3), 2);
    expect(c.lookup(mkdev(254, 3))).toBe(cdev);
    expect(c.lookup(mkdev(254, 4))).toBe(cdev);
    expect(c.lookup(mkdev(254, 5))).toBeNull();
    expect(refs).toBe(1);
    c.cdevDel(cdev);
    expect(c.lookup(mkdev(254, 3))).toBeNull();
    expect(refs).toBe(0);
    expect(c.counts.cdevs).toBe(0);
  });
});
