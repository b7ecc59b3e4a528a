import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kerr } from '../src/errno.js';
import type { File } from '../src/fs/file_table.js';
import { O_RDONLY } from '../src/fs/file_table.js';
import {
  IOC_READ,
  IOC_WRITE,
  ioc,
  iocDir,
  iocNr,
  iocSize,
  iocType,
  iowr,
  vfsIoctl,
} from '../src/fs/ioctl.js';
import { Kernel } from '../src/kernel.js';
import { caught, loadToy } from './toy_chrdev.js';

interface Echo {
  in: number;
  out?: number;
}

describe('ioctl(2) (vfs_ioctl, Task.ioctl)', () => {
  it('passes cmd and the user struct to ->unlocked_ioctl, which writes its output fields back', async () => {
    const kernel = new Kernel();
    const seen: Array<{ file: File; cmd: number }> = [];
    const toy = await loadToy(kernel, {
      fops: {
        unlockedIoctl(file, cmd, arg) {
          seen.push({ file, cmd });
          const a = arg as Echo;
          a.out = a.in * 2;
          return 7;
        },
      },
    });
    const t = kernel.spawn('ioctl');
    const fd = t.open(toy.path);
    const arg: Echo = { in: 21 };
    expect(t.ioctl(fd, 0xc0084e01, arg)).toBe(7);
    expect(arg).toEqual({ in: 21, out: 42 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.cmd).toBe(0xc0084e01);
    expect(seen[0]!.file).toBe([...toy.files][0]);
    t.exit();
  });

  it('ENOTTY when the file operations have no ->unlocked_ioctl; nothing else is touched', async () => {
    const kernel = new Kernel();
    const toy = await loadToy(kernel);
    const t = kernel.spawn('ioctl');
    const fd = t.open(toy.path);
    const arg = { in: 1 };
    expect(caught(() => t.ioctl(fd, 1, arg))).toMatchObject({ code: 'ENOTTY', errno: -25, syscall: 'ioctl' });
    expect(arg).toEqual({ in: 1 });
    expect(toy.log).toEqual(['open']);
    t.exit();
  });

  it('EBADF for a descriptor that is not open (never opened, or closed), ESRCH after exit', async () => {
    const kernel = new Kernel();
    let calls = 0;
    const toy = await loadToy(kernel, { fops: { unlockedIoctl: () => ++calls } });
    const t = kernel.spawn('ioctl');
    expect(caught(() => t.ioctl(3, 1, {}))).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'ioctl' });
    const fd = t.open(toy.path, O_RDONLY);
    expect(t.ioctl(fd, 1, {})).toBe(1);
    t.close(fd);
    expect(caught(() => t.ioctl(fd, 1, {}))).toMatchObject({ code: 'EBADF' });
    t.exit();
    expect(caught(() => t.ioctl(fd, 1, {}))).toMatchObject({ code: 'ESRCH', syscall: 'ioctl' });
    expect(calls).toBe(1);
  });

  it('a driver error reaches the caller unchanged, and the file stays open', async () => {
    const kernel = new Kernel();
    const toy = await loadToy(kernel, {
      fops: {
        unlockedIoctl: () => {
          throw kerr('EPERM', 'nd_ioctl');
        },
      },
    });
    const t = kernel.spawn('ioctl');
    const fd = t.open(toy.path);
    expect(caught(() => t.ioctl(fd, 2, {}))).toMatchObject({ code: 'EPERM', errno: -1, syscall: 'nd_ioctl' });
    expect(t.fds()).toEqual([fd]);
    expect(caught(() => vfsIoctl([...toy.files][0]!, 2, {}))).toMatchObject({ code: 'EPERM' });
    t.exit();
    expect(toy.log).toEqual(['open', 'release']);
  });

  it('_IOWR numbers match include/uapi/linux/ndctl.h (ND_IOCTL_ARS_CAP, ND_IOCTL_CALL, ND_IOCTL_SMART)', () => {
    const N = 'N'.charCodeAt(0);
    expect(iowr(N, 1, 32)).toBe(0xc0204e01);
    expect(iowr(N, 10, 64)).toBe(0xc0404e0a);
    expect(iowr(N, 1, 132)).toBe(0xc0844e01);
    expect(iocNr(0xc0204e01)).toBe(1);
    expect(iocType(0xc0204e01)).toBe(N);
    expect(iocSize(0xc0204e01)).toBe(32);
    expect(iocDir(0xc0204e01)).toBe(IOC_READ | IOC_WRITE);
  });

  it('_IOC fields round-trip for every direction, type, number and size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: (1 << 14) - 1 }),
        (dir, type, nr, size) => {
          const cmd = ioc(dir, type, nr, size);
          expect(cmd).toBeGreaterThanOrEqual(0);
          expect(cmd).toBeLessThanOrEqual(0xffffffff);
          expect([iocDir(cmd), iocType(cmd), iocNr(cmd), iocSize(cmd)]).toEqual([dir, type, nr, size]);
        },
      ),
    );
  });
});
