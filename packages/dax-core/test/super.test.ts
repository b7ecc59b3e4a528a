import { type Inode, Kernel, major, minor, PFN_DEV, PFN_MAP, S_DAX, S_IFCHR } from '@daxsim/kernel';
import { describe, expect, it } from 'vitest';
import { type DaxInode, type DaxOperations, daxModule } from '../src/index.js';
import { bootDax, gracePeriod, tick } from './fixtures.js';

const fakeOps = (avail: number): DaxOperations => ({
  directAccess: (_d, pgoff) => ({
    avail,
    kaddr: 0x1000_0000 + pgoff * 4096,
    pfn: { pfn: 0x100000 + pgoff, flags: PFN_DEV | PFN_MAP },
  }),
});

describe('dax.ko init and exit (dax_fs_init / dax_fs_exit)', () => {
  it('registers the dax pseudo-fs and a chrdev region of nr_dax minors, raised to at least 256', async () => {
    await using f = await bootDax({ nr_dax: 10 });
    expect(f.dax.nrDax).toBe(256);
    expect(f.kernel.sysfs.read('/sys/module/dax/parameters/nr_dax')).toBe('256\n');
    expect(f.kernel.fs.procFilesystems()).toContain('nodev\tdax\n');
    expect(f.kernel.chrdev.procDevices()).toMatch(new RegExp(`\\n${major(f.dax.devt)} dax\\n`));
    expect(minor(f.dax.devt)).toBe(0);
  });

  it('defaults nr_dax to CONFIG_NR_DEV_DAX', async () => {
    await using f = await bootDax();
    expect(f.kernel.sysfs.read('/sys/module/dax/parameters/nr_dax')).toBe('32768\n');
  });

  it('rmmod undoes everything init did', async () => {
    const kernel = new Kernel();
    const nodes = kernel.sysfs.nodeCount;
    const dax = await kernel.modules.modprobe(daxModule);
    const d = dax.allocDaxInode({});
    await dax.killDaxInode(d);
    dax.putDaxInode(d);
    await kernel.modules.rmmod('dax');
    expect(kernel.fs.has('dax')).toBe(false);
    expect(kernel.fs.mounts).toBe(0);
    expect(kernel.chrdev.counts).toEqual({ regions: 0, cdevs: 0 });
    expect(kernel.sysfs.nodeCount).toBe(nodes);
    expect(kernel.log.warnings).toBe(0);
    expect(kernel.dmesg().join('\n')).not.toMatch(/Busy inodes|still has objects/);
  });

  it('rmmod with a dax inode still referenced reports the busy inode and the leaked object', async () => {
    const kernel = new Kernel();
    const dax = await kernel.modules.modprobe(daxModule);
    dax.allocDaxInode({});
    await kernel.modules.rmmod('dax');
    const log = kernel.dmesg().join('\n');
    expect(log).toContain('VFS: Busy inodes after unmount of dax:');
    expect(log).toContain('kmem_cache_destroy dax_cache: Slab cache still has objects');
  });

  it('a failed init unwinds in reverse order: no chrdev major left means EBUSY and no dax filesystem', async () => {
    const kernel = new Kernel();
    for (let i = 0; i < 254; i++) kernel.chrdev.allocChrdevRegion(0, 1, `hog${i}`);
    const nodes = kernel.sysfs.nodeCount;
    await expect(kernel.modules.modprobe(daxModule)).rejects.toMatchObject({
      code: 'EBUSY',
      syscall: 'alloc_chrdev_region',
    });
    expect(kernel.fs.has('dax')).toBe(false);
    expect(kernel.fs.mounts).toBe(0);
    expect(kernel.modules.find('dax')).toBeUndefined();
    expect(kernel.sysfs.nodeCount).toBe(nodes);
  });

  it('a failed init when "dax" is already a registered filesystem leaves the other one alone', async () => {
    const kernel = new Kernel();
    const other = {
      name: 'dax',
      mount: () => {
        throw new Error('unused');
      },
      killSb: () => {},
    };
    kernel.fs.registerFilesystem(other);
    await expect(kernel.modules.modprobe(daxModule)).rejects.toMatchObject({
      code: 'EBUSY',
      syscall: 'register_filesystem',
    });
    expect(kernel.fs.has('dax')).toBe(true);
    expect(kernel.chrdev.counts.regions).toBe(0);
    expect(kernel.modules.find('dax')).toBeUndefined();
  });

  it('each kernel has its own dax.ko state', async () => {
    await using a = await bootDax();
    await using b = await bootDax();
    const x = a.dax.allocDaxInode(1)!;
    const y = b.dax.allocDaxInode(2)!;
    expect(minor(x.inode.rdev)).toBe(0);
    expect(minor(y.inode.rdev)).toBe(0);
    for (const [f, d] of [
      [a, x],
      [b, y],
    ] as const) {
      await f.dax.killDaxInode(d);
      f.dax.putDaxInode(d);
    }
  });
});

describe('alloc_dax_inode / put_dax_inode', () => {
  it('returns a live S_IFCHR|S_DAX inode on the next free minor of the dax major', async () => {
    await using f = await bootDax();
    const priv = { name: 'dev' };
    const a = f.dax.allocDaxInode(priv)!;
    const b = f.dax.allocDaxInode(priv)!;
    const id = f.dax.daxReadLock();
    expect(f.dax.daxInodeAlive(a)).toBe(true);
    f.dax.daxReadUnlock(id);
    expect(a.inode.mode).toBe(S_IFCHR);
    expect(a.inode.flags).toBe(S_DAX);
    expect(major(a.inode.rdev)).toBe(major(f.dax.devt));
    expect([minor(a.inode.rdev), minor(b.inode.rdev)]).toEqual([0, 1]);
    expect(f.dax.daxInodeGetPrivate(a)).toBe(priv);
    expect(f.dax.stats()).toMatchObject({ minors: 2, inodes: 2 });
    for (const d of [a, b]) {
      await f.dax.killDaxInode(d);
      f.dax.putDaxInode(d);
    }
    await gracePeriod(f.kernel);
    expect(f.dax.stats()).toMatchObject({ minors: 0, inodes: 0 });
  });

  it('returns null when the minors run out, and leaks nothing', async () => {
    await using f = await bootDax({ nr_dax: 256 });
    const all: DaxInode[] = [];
    for (let i = 0; i < 256; i++) all.push(f.dax.allocDaxInode(i)!);
    expect(all.every((d) => d !== null)).toBe(true);
    const before = f.dax.stats();
    expect(f.dax.allocDaxInode('one too many')).toBeNull();
    expect(f.dax.stats()).toEqual(before);
    expect(minor(all[255]!.inode.rdev)).toBe(255);
    for (const d of all) {
      await f.dax.killDaxInode(d);
      f.dax.putDaxInode(d);
    }
    await gracePeriod(f.kernel);
    expect(f.dax.stats()).toMatchObject({ minors: 0, inodes: 0 });
  });

  it('a freed minor is reusable only after a grace period that follows the final put', async () => {
    await using f = await bootDax({ nr_dax: 256 });
    const all: DaxInode[] = [];
    for (let i = 0; i < 256; i++) all.push(f.dax.allocDaxInode(i)!);
    const victim = all[17]!;
    await f.dax.killDaxInode(victim);
    f.dax.putDaxInode(victim);
    expect(f.dax.allocDaxInode('too soon')).toBeNull();
    expect(f.dax.stats().minors).toBe(256);
    await gracePeriod(f.kernel);
    const again = f.dax.allocDaxInode('after gp')!;
    expect(minor(again.inode.rdev)).toBe(17);
    all[17] = again;
    for (const d of all) {
      await f.dax.killDaxInode(d);
      f.dax.putDaxInode(d);
    }
  });

  it('a reference taken elsewhere keeps the inode: only the final put frees the minor', async () => {
    await using f = await bootDax();
    const d = f.dax.allocDaxInode(null, 'pmem0')!;
    const ref = f.dax.daxGetByHost('pmem0')!;
    expect(ref).toBe(d);
    expect(d.inode.count).toBe(2);
    await f.dax.killDaxInode(d);
    f.dax.putDaxInode(d);
    await gracePeriod(f.kernel);
    expect(f.dax.stats().minors).toBe(1);
    f.dax.putDaxInode(ref);
    await gracePeriod(f.kernel);
    expect(f.dax.stats()).toMatchObject({ minors: 0, inodes: 0 });
  });

  it('put_dax_inode(null) and kill_dax_inode(null) are no-ops', async () => {
    await using f = await bootDax();
    f.dax.putDaxInode(null);
    await f.dax.killDaxInode(null);
    expect(f.kernel.log.warnings).toBe(0);
  });

  it('the final put of a live inode warns once, and the inode is still freed', async () => {
    await using f = await bootDax();
    f.dax.putDaxInode(f.dax.allocDaxInode(1, 'pmem0'));
    f.dax.putDaxInode(f.dax.allocDaxInode(2));
    const text = f.kernel.dmesg().join('\n');
    expect(text.match(/kill_dax_inode\(\) must be called before final iput\(\)/g)).toHaveLength(1);
    expect(f.kernel.log.warnings).toBe(1);
    expect(f.dax.daxGetByHost('pmem0')).toBeNull();
    await gracePeriod(f.kernel);
    expect(f.dax.stats()).toMatchObject({ minors: 0, inodes: 0, hosts: 0 });
  });
});

describe('kill_dax_inode and the SRCU read side', () => {
  it('kill resolves only after a reader that held the lock across an await unlocks', async () => {
    await using f = await bootDax();
    const d = f.dax.allocDaxInode({ data: 42 }, null, fakeOps(8))!;
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const reader = (async () => {
      const id = f.dax.daxReadLock();
      events.push(`reader sees alive=${f.dax.daxInodeAlive(d)}`);
      await gate;
      events.push(`reader still has private=${JSON.stringify(f.dax.daxInodeGetPrivate(d))}`);
      f.dax.daxReadUnlock(id);
    })();
    const kill = f.dax.killDaxInode(d).then(() => events.push('kill done'));
    await tick();
    await tick();
    expect(events).toEqual(['reader sees alive=true']);
    const late = f.dax.daxReadLock();
    expect(f.dax.daxInodeAlive(d)).toBe(false);
    expect(() => f.dax.daxDirectAccess(d, 0, 1)).toThrow(expect.objectContaining({ code: 'ENXIO' }));
    f.dax.daxReadUnlock(late);
    release();
    await Promise.all([reader, kill]);
    expect(events).toEqual(['reader sees alive=true', 'reader still has private={"data":42}', 'kill done']);
    expect(f.dax.daxInodeGetPrivate(d)).toBeNull();
    f.dax.putDaxInode(d);
    expect(f.kernel.log.warnings).toBe(0);
  });

  it('kill does not wait for readers that start after it', async () => {
    await using f = await bootDax();
    const d = f.dax.allocDaxInode(1)!;
    const kill = f.dax.killDaxInode(d);
    const late = f.dax.daxReadLock();
    await kill;
    expect(f.dax.stats().readers).toBe(1);
    f.dax.daxReadUnlock(late);
    f.dax.putDaxInode(d);
  });

  it('dax_inode_alive outside a read-side section is reported once', async () => {
    await using f = await bootDax();
    const d = f.dax.allocDaxInode(1)!;
    expect(f.dax.daxInodeAlive(d)).toBe(true);
    f.dax.daxInodeAlive(d);
    expect(f.kernel.dmesg().filter((l) => l.includes('dax operations require dax_read_lock()'))).toHaveLength(
      1,
    );
    await f.dax.killDaxInode(d);
    f.dax.putDaxInode(d);
  });
});

describe('dax_get_by_host', () => {
  it('null host gives null; a live host gives a counted reference', async () => {
    await using f = await bootDax();
    expect(f.dax.daxGetByHost(null)).toBeNull();
    expect(f.dax.daxGetByHost(undefined)).toBeNull();
    expect(f.dax.daxGetByHost('pmem0')).toBeNull();
    const d = f.dax.allocDaxInode(1, 'pmem0')!;
    const got = f.dax.daxGetByHost('pmem0');
    expect(got).toBe(d);
    expect(d.inode.count).toBe(2);
    expect(f.dax.daxGetByHost('pmem1')).toBeNull();
    f.dax.putDaxInode(got);
    await f.dax.killDaxInode(d);
    f.dax.putDaxInode(d);
  });

  it('skips a dying inode and finds its live successor with the same host', async () => {
    await using f = await bootDax();
    const old = f.dax.allocDaxInode('old', 'pmem0')!;
    const id = f.dax.daxReadLock();
    const kill = f.dax.killDaxInode(old);
    expect(f.dax.daxGetByHost('pmem0')).toBeNull();
    const fresh = f.dax.allocDaxInode('new', 'pmem0')!;
    const got = f.dax.daxGetByHost('pmem0')!;
    expect(got).toBe(fresh);
    f.dax.daxReadUnlock(id);
    await kill;
    f.dax.putDaxInode(got);
    for (const d of [old, fresh]) {
      await f.dax.killDaxInode(d);
      f.dax.putDaxInode(d);
    }
    expect(f.dax.stats().hosts).toBe(0);
  });

  it('finds every one of many hosts that share hash buckets', async () => {
    await using f = await bootDax();
    const all = Array.from({ length: 1200 }, (_, i) => f.dax.allocDaxInode(i, `pmem${i}`)!);
    expect(f.dax.stats().hosts).toBe(1200);
    for (let i = 0; i < all.length; i++) {
      const got = f.dax.daxGetByHost(`pmem${i}`);
      expect(got).toBe(all[i]);
      f.dax.putDaxInode(got);
    }
    for (const d of all) {
      await f.dax.killDaxInode(d);
      f.dax.putDaxInode(d);
    }
    expect(f.dax.stats().hosts).toBe(0);
  });
});

describe('dax_direct_access', () => {
  it('answers EOPNOTSUPP, ENXIO, a negative count, ERANGE, or min(avail, nr_pages)', async () => {
    await using f = await bootDax();
    const { dax } = f;
    const id = dax.daxReadLock();
    expect(() => dax.daxDirectAccess(null, 0, 1)).toThrow(
      expect.objectContaining({ code: 'EOPNOTSUPP', errno: -95 }),
    );
    const d = dax.allocDaxInode(1, 'pmem0', fakeOps(16))!;
    expect(dax.daxDirectAccess(d, 0, -22)).toEqual({ avail: -22, kaddr: null, pfn: null });
    const some = dax.daxDirectAccess(d, 3, 4);
    expect(some.avail).toBe(4);
    expect(some.kaddr).toBe(0x1000_0000 + 3 * 4096);
    expect(some.pfn).toEqual({ pfn: 0x100003, flags: PFN_DEV | PFN_MAP });
    expect(dax.daxDirectAccess(d, 0, 100).avail).toBe(16);
    const none = dax.allocDaxInode(2, null, fakeOps(0))!;
    expect(() => dax.daxDirectAccess(none, 0, 1)).toThrow(
      expect.objectContaining({ code: 'ERANGE', errno: -34 }),
    );
    const failing = dax.allocDaxInode(3, null, {
      directAccess: () => {
        throw Object.assign(new Error('EIO: input/output error, pmem_direct_access'), {
          code: 'EIO',
          errno: -5,
        });
      },
    })!;
    expect(() => dax.daxDirectAccess(failing, 0, 1)).toThrow(expect.objectContaining({ code: 'EIO' }));
    const opless = dax.allocDaxInode(4)!;
    expect(() => dax.daxDirectAccess(opless, 0, 1)).toThrow(expect.objectContaining({ code: 'EOPNOTSUPP' }));
    dax.daxReadUnlock(id);
    for (const x of [d, none, failing, opless]) {
      const kill = dax.killDaxInode(x);
      await kill;
      const r = dax.daxReadLock();
      expect(() => dax.daxDirectAccess(x, 0, 1)).toThrow(
        expect.objectContaining({ code: 'ENXIO', errno: -6 }),
      );
      dax.daxReadUnlock(r);
      dax.putDaxInode(x);
    }
  });
});

describe('inode accessors and the character device', () => {
  it('inode_to_dax_inode inverts dax_inode_to_inode and rejects foreign inodes', async () => {
    await using f = await bootDax();
    const d = f.dax.allocDaxInode('p')!;
    const inode: Inode = f.dax.daxInodeToInode(d);
    expect(inode.cdev).toBe(d.cdev);
    expect(f.dax.inodeToDaxInode(inode)).toBe(d);
    expect(f.dax.inodeToDaxInode({ ...inode, cdev: null } as Inode)).toBeNull();
    await f.dax.killDaxInode(d);
    f.dax.putDaxInode(d);
  });

  it('dax_inode_register adds the cdev at the inode dev_t and pins the parent; unregister removes it', async () => {
    await using f = await bootDax();
    const d = f.dax.allocDaxInode('p')!;
    let parentRefs = 0;
    const fops = { open: () => {} };
    const owner = f.kernel.modules.find('dax');
    f.dax.daxInodeRegister(d, fops, owner, { get: () => parentRefs++, put: () => parentRefs-- });
    const cdev = f.kernel.chrdev.lookup(d.inode.rdev)!;
    expect(cdev).toBe(d.cdev);
    expect(cdev.ops).toBe(fops);
    expect(cdev.owner).toBe(owner);
    expect(parentRefs).toBe(1);
    expect(f.kernel.chrdev.lookup(d.inode.rdev + 1)).toBeNull();
    f.dax.daxInodeUnregister(d);
    expect(f.kernel.chrdev.lookup(d.inode.rdev)).toBeNull();
    expect(parentRefs).toBe(0);
    await f.dax.killDaxInode(d);
    f.dax.putDaxInode(d);
  });
});
