import { describe, expect, it } from 'vitest';
import { kerr } from '../src/errno.js';
import {
  File,
  FMODE_READ,
  FMODE_WRITE,
  fput,
  getFile,
  O_ACCMODE,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
} from '../src/fs/file_table.js';
import { Inode, S_IFCHR, S_IFMT } from '../src/fs/inode.js';
import { doSysOpen } from '../src/fs/open.js';
import { mountPseudo } from '../src/fs/super.js';
import { mkdev } from '../src/include/kdev_t.js';
import type { ModuleDefinition } from '../src/kernel/module.js';
import { Printk } from '../src/kernel/printk.js';
import { Kernel } from '../src/kernel.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../src/mm/mm_types.js';
import { caught, devByte, loadToy, type Toy, toyDriver } from './toy_chrdev.js';

const errno = (code: string) => expect.objectContaining({ code });

function files(toy: Toy): File[] {
  return [...toy.files];
}

describe('open(2) of /dev nodes (do_sys_open, chrdev_open)', () => {
  it('ENOENT without a node, for paths outside /dev, and after the node is unlinked', async () => {
    const kernel = new Kernel();
    const toy = await loadToy(kernel);
    const t = kernel.spawn('opener');
    const inodes = kernel.devtmpfs.inodes;
    expect(caught(() => t.open('/dev/nothing'))).toMatchObject({
      code: 'ENOENT',
      errno: -2,
      syscall: 'open',
      path: '/dev/nothing',
    });
    expect(() => t.open('/proc/devices')).toThrow(errno('ENOENT'));
    expect(() => t.open('toy0')).toThrow(errno('ENOENT'));
    expect(t.open(toy.path)).toBe(3);
    kernel.devtmpfs.deleteNode('toy0', toy.devt);
    expect(() => t.open(toy.path)).toThrow(errno('ENOENT'));
    expect(t.fds()).toEqual([3]);
    expect(kernel.devtmpfs.inodes).toBe(inodes);
    t.exit();
    expect(kernel.devtmpfs.inodes).toBe(inodes - 1);
  });

  it('ENXIO for a node no cdev answers for; the failed open drops its inode reference', async () => {
    const kernel = new Kernel();
    const t = kernel.spawn('opener');
    const base = kernel.devtmpfs.inodes;
    kernel.devtmpfs.createNode('ghost0', mkdev(200, 0));
    const region = kernel.chrdev.allocChrdevRegion(0, 4, 'regiononly');
    kernel.devtmpfs.createNode('region0', region);
    expect(kernel.devtmpfs.inodes).toBe(base + 2);
    expect(caught(() => t.open('/dev/ghost0'))).toMatchObject({ code: 'ENXIO', errno: -6 });
    expect(() => t.open('/dev/region0')).toThrow(errno('ENXIO'));
    expect(t.fds()).toEqual([]);
    // a leaked path-walk reference would keep the inodes alive past their unlink
    kernel.devtmpfs.deleteNode('ghost0', mkdev(200, 0));
    kernel.devtmpfs.deleteNode('region0', region);
    expect(kernel.devtmpfs.inodes).toBe(base);
    expect(kernel.log.warnings).toBe(0);
  });

  it('caches the cdev in i_cdev; cdev_del forgets it and later opens are ENXIO', async () => {
    const kernel = new Kernel();
    const toy = await loadToy(kernel);
    const t = kernel.spawn('opener');
    const fd = t.open(toy.path);
    const [file] = files(toy);
    expect(file!.inode.mode & S_IFMT).toBe(S_IFCHR);
    expect(file!.inode.rdev).toBe(toy.devt);
    expect(file!.inode.cdev).toBe(toy.cdev);
    expect([...toy.cdev.inodes]).toEqual([file!.inode]);
    expect(toy.cdev.refs).toBe(2);
    t.close(fd);
    expect(toy.cdev.refs).toBe(1);
    expect(file!.inode.cdev).toBe(toy.cdev);
    // a second open finds the cached cdev
    t.close(t.open(toy.path));
    expect(toy.log).toEqual(['open', 'release', 'open', 'release']);
    kernel.chrdev.cdevDel(toy.cdev);
    expect(file!.inode.cdev).toBeNull();
    expect(toy.cdev.inodes.size).toBe(0);
    expect(toy.cdev.refs).toBe(0);
    expect(toy.parentRefs).toBe(0);
    expect(kernel.chrdev.lookup(toy.devt)).toBeNull();
    expect(() => t.open(toy.path)).toThrow(errno('ENXIO'));
    expect(toy.module.refcnt).toBe(0);
    await kernel.modules.rmmod(toy.name);
    expect(kernel.chrdev.counts).toEqual({ regions: 0, cdevs: 0 });
    expect(kernel.log.warnings).toBe(0);
  });

  it('an ->open that fails unwinds the module, cdev and inode references (the i_cdev cache stays)', async () => {
    const kernel = new Kernel();
    const base = kernel.devtmpfs.inodes;
    const toy = await loadToy(kernel, {
      fops: {
        open() {
          throw kerr('EBUSY', 'toy_open');
        },
      },
    });
    const t = kernel.spawn('opener');
    expect(() => t.open(toy.path)).toThrow(errno('EBUSY'));
    expect(t.fds()).toEqual([]);
    expect(toy.module.refcnt).toBe(0);
    expect(toy.cdev.refs).toBe(1);
    expect(toy.cdev.inodes.size).toBe(1);
    expect(toy.log).toEqual([]);
    await kernel.modules.rmmod(toy.name);
    expect(kernel.devtmpfs.inodes).toBe(base);
    expect(toy.cdev.inodes.size).toBe(0);
    expect(kernel.log.warnings).toBe(0);
  });

  it('f_mode follows the O_ flags; the file holds the inode, the fops and a reference', async () => {
    const kernel = new Kernel();
    const toy = await loadToy(kernel);
    const modes: number[] = [];
    for (const flags of [O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE]) {
      const file = doSysOpen(kernel.devtmpfs, kernel.chrdev, toy.path, flags);
      modes.push(file.mode);
      expect(file.flags).toBe(flags);
      expect(file.fops).toBe(toy.fops);
      expect(file.mapping).toBe(file.inode.mapping);
      expect(file.count).toBe(1);
      expect(file.pos).toBe(0);
      fput(file);
    }
    expect(modes).toEqual([FMODE_READ, FMODE_WRITE, FMODE_READ | FMODE_WRITE, 0]);
    expect(toy.log.filter((l) => l === 'release')).toHaveLength(4);
    expect(toy.module.refcnt).toBe(0);
  });
});

describe('module pinning', () => {
  it('rmmod of the fops owner is EWOULDBLOCK while any file is open and succeeds after the last close', async () => {
    const kernel = new Kernel();
    const base = { nodes: kernel.sysfs.nodeCount, inodes: kernel.devtmpfs.inodes };
    const toy = await loadToy(kernel);
    const a = kernel.spawn('a');
    const b = kernel.spawn('b');
    const fa = a.open(toy.path);
    const fb = b.open(toy.path, O_RDONLY);
    // cdev_get pins cdev->owner and fops_get pins fops->owner: the same module here
    expect(toy.module.refcnt).toBe(4);
    expect(kernel.sysfs.read(`/sys/module/${toy.name}/refcnt`)).toBe('4\n');
    await expect(kernel.modules.rmmod(toy.name)).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    a.close(fa);
    expect(toy.module.refcnt).toBe(2);
    await expect(kernel.modules.rmmod(toy.name)).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    b.close(fb);
    expect(toy.module.refcnt).toBe(0);
    await kernel.modules.rmmod(toy.name);
    expect(kernel.modules.list()).toEqual([]);
    expect(kernel.devtmpfs.lookup(toy.path)).toBeUndefined();
    expect(kernel.chrdev.counts).toEqual({ regions: 0, cdevs: 0 });
    expect(kernel.sysfs.nodeCount).toBe(base.nodes);
    expect(kernel.devtmpfs.inodes).toBe(base.inodes);
    expect(() => a.open(toy.path)).toThrow(errno('ENOENT'));
  });

  it('pins the fops owner separately from the cdev owner; a mapping pins both past close', async () => {
    const kernel = new Kernel();
    const ops: ModuleDefinition<Record<string, never>, void> = { name: 'toy_ops', init() {} };
    await kernel.modules.insmod(ops);
    const opsModule = kernel.modules.find('toy_ops')!;
    const toy = await loadToy(kernel);
    toy.fops.owner = opsModule;
    const t = kernel.spawn('mapper');
    const fd = t.open(toy.path);
    expect([toy.module.refcnt, opsModule.refcnt]).toEqual([1, 1]);
    const addr = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    t.close(fd);
    await expect(kernel.modules.rmmod('toy_ops')).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    await expect(kernel.modules.rmmod(toy.name)).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    t.munmap(addr, 4096);
    expect([toy.module.refcnt, opsModule.refcnt]).toEqual([0, 0]);
    await kernel.modules.rmmod('toy_ops');
    await kernel.modules.rmmod(toy.name);
    expect(kernel.log.warnings).toBe(0);
  });

  it('open while the owner module is being removed is ENXIO and takes no reference', async () => {
    const kernel = new Kernel();
    const toy = toyDriver(kernel);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    await kernel.modules.insmod({
      ...toy.def,
      async exit(api, ctx) {
        await gate;
        toy.def.exit!(api, ctx);
      },
    });
    const t = kernel.spawn('late');
    const removal = kernel.modules.rmmod(toy.name);
    expect(toy.module.state).toBe('going');
    expect(() => t.open(toy.path)).toThrow(errno('ENXIO'));
    expect(toy.module.refcnt).toBe(0);
    expect(toy.cdev.refs).toBe(1);
    expect(toy.cdev.inodes.size).toBe(0);
    release();
    await removal;
    expect(kernel.modules.list()).toEqual([]);
    expect(kernel.devtmpfs.inodes).toBe(0);
    expect(kernel.log.warnings).toBe(0);
  });
});

describe('cdev lifetime against open files', () => {
  it('after cdev_del an open file keeps working, and the cdev parent stays pinned until the last close', async () => {
    const kernel = new Kernel();
    const toy = await loadToy(kernel);
    const t = kernel.spawn('holder');
    const fa = t.open(toy.path);
    const fb = t.open(toy.path);
    const addr = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
    expect(toy.cdev.refs).toBe(3);
    expect(toy.parentRefs).toBe(1);
    kernel.chrdev.cdevDel(toy.cdev);
    expect(kernel.chrdev.lookup(toy.devt)).toBeNull();
    expect(kernel.chrdev.counts.cdevs).toBe(0);
    expect(toy.cdev.refs).toBe(2);
    expect(toy.parentRefs).toBe(1);
    expect(() => t.open(toy.path)).toThrow(errno('ENXIO'));
    t.store(addr + 8, Uint8Array.of(0x42));
    expect(devByte(kernel, 0, 8)).toBe(0x42);
    t.close(fb);
    expect([toy.cdev.refs, toy.parentRefs]).toEqual([1, 1]);
    t.close(fa);
    expect([toy.cdev.refs, toy.parentRefs]).toEqual([1, 1]);
    expect(t.load(addr + 8, 1)[0]).toBe(0x42);
    t.munmap(addr, 4096);
    expect([toy.cdev.refs, toy.parentRefs]).toEqual([0, 0]);
    expect(toy.log.filter((l) => l === 'release')).toHaveLength(2);
    expect(toy.module.refcnt).toBe(0);
    // the module's own cdev_del at exit finds nothing left to do
    await kernel.modules.rmmod(toy.name);
    expect(toy.parentRefs).toBe(0);
    expect(kernel.log.warnings).toBe(0);
  });

  it('cdev_add pins the parent once; cdev_del on a cdev that was never added changes nothing', () => {
    const kernel = new Kernel();
    const toy = toyDriver(kernel);
    kernel.chrdev.cdevDel(toy.cdev);
    expect(toy.cdev.refs).toBe(0);
    expect(kernel.log.warnings).toBe(0);
    const devt = kernel.chrdev.allocChrdevRegion(0, 1, 'x');
    toy.cdev.parent = { get: () => toy.parentRefs++, put: () => toy.parentRefs-- };
    kernel.chrdev.cdevAdd(toy.cdev, devt, 1);
    expect([toy.cdev.refs, toy.parentRefs]).toEqual([1, 1]);
    kernel.chrdev.cdevDel(toy.cdev);
    kernel.chrdev.cdevDel(toy.cdev);
    expect([toy.cdev.refs, toy.parentRefs]).toEqual([0, 0]);
    expect(kernel.log.warnings).toBe(0);
  });
});

describe('devtmpfs inodes', () => {
  it('one inode per node, shared by opens; an unlinked node lives until its last close, then cd_forget', async () => {
    const kernel = new Kernel();
    const base = kernel.devtmpfs.inodes;
    const toy = await loadToy(kernel);
    expect(kernel.devtmpfs.inodes).toBe(base + 1);
    const a = kernel.spawn('a');
    const b = kernel.spawn('b');
    const fa = a.open(toy.path);
    const fb = b.open(toy.path);
    const [f1, f2] = files(toy);
    expect(f1!.inode).toBe(f2!.inode);
    const inode = f1!.inode;
    expect(inode.count).toBe(3);
    expect(kernel.devtmpfs.inodes).toBe(base + 1);
    kernel.devtmpfs.deleteNode('toy0', toy.devt);
    expect(kernel.devtmpfs.list()).toEqual([]);
    expect(kernel.devtmpfs.inodes).toBe(base + 1);
    a.close(fa);
    expect(inode.count).toBe(1);
    expect(kernel.devtmpfs.inodes).toBe(base + 1);
    b.close(fb);
    expect(kernel.devtmpfs.inodes).toBe(base);
    expect(inode.count).toBe(0);
    // evict() -> cd_forget(): the cdev no longer lists the freed inode
    expect(toy.cdev.inodes.size).toBe(0);
    expect(inode.cdev).toBeNull();
    kernel.devtmpfs.createNode('toy0', toy.devt);
    const fc = a.open(toy.path);
    expect(files(toy)[0]!.inode).not.toBe(inode);
    expect(toy.cdev.inodes.size).toBe(1);
    a.close(fc);
    await kernel.modules.rmmod(toy.name);
    expect(kernel.devtmpfs.inodes).toBe(base);
    expect(toy.cdev.inodes.size).toBe(0);
    expect(kernel.log.warnings).toBe(0);
  });

  it('createNode keeps an existing node; deleteNode of another dev_t leaves it', async () => {
    const kernel = new Kernel();
    kernel.devtmpfs.createNode('n0', mkdev(10, 1));
    kernel.devtmpfs.createNode('n0', mkdev(10, 2));
    expect(kernel.devtmpfs.lookup('/dev/n0')).toBe(mkdev(10, 1));
    expect(kernel.devtmpfs.inodes).toBe(1);
    kernel.devtmpfs.deleteNode('n0', mkdev(10, 2));
    expect(kernel.devtmpfs.inodes).toBe(1);
    kernel.devtmpfs.deleteNode('n0', mkdev(10, 1));
    expect(kernel.devtmpfs.inodes).toBe(0);
  });
});

describe('struct file references (fs/file_table.c)', () => {
  it('the last fput runs ->release, then the cleanups newest first; earlier fputs do nothing', () => {
    const sb = mountPseudo(new Printk(), 'test', { allocInode: (s) => new Inode(s) }, 1);
    const order: string[] = [];
    const file = new File(sb.allocInode()!, { release: () => void order.push('release') }, O_RDWR);
    file.cleanup.push(
      () => order.push('first'),
      () => order.push('second'),
    );
    expect(getFile(file)).toBe(file);
    expect(file.count).toBe(2);
    fput(file);
    expect(order).toEqual([]);
    fput(file);
    expect(order).toEqual(['release', 'second', 'first']);
    expect(file.cleanup).toEqual([]);
  });

  it('a throwing ->release still runs the cleanups', () => {
    const sb = mountPseudo(new Printk(), 'test', { allocInode: (s) => new Inode(s) }, 1);
    let cleaned = 0;
    const file = new File(
      sb.allocInode()!,
      {
        release() {
          throw kerr('EIO', 'release');
        },
      },
      O_RDONLY,
    );
    file.cleanup.push(() => cleaned++);
    expect(() => fput(file)).toThrow(errno('EIO'));
    expect(cleaned).toBe(1);
  });
});
