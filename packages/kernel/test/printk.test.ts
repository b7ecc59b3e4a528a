import { describe, expect, it } from 'vitest';
import { errnoName, errnoValue, isErrno, KernelError, kerr } from '../src/errno.js';
import { KERN_DEBUG, KERN_INFO, Printk } from '../src/kernel/printk.js';
import { Kref } from '../src/lib/kref.js';

describe('errno (include/uapi/asm-generic/errno*.h)', () => {
  it('has the Node system-error shape', () => {
    const e = kerr('EINVAL', 'mmap');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('EINVAL');
    expect(e.errno).toBe(-22);
    expect(e.syscall).toBe('mmap');
    expect(e.message).toBe('EINVAL: invalid argument, mmap');
    expect(new KernelError('ENOENT', 'open', { path: '/dev/dax9.9' }).message).toBe(
      "ENOENT: no such file or directory, open '/dev/dax9.9'",
    );
  });

  it('maps values and names both ways', () => {
    expect(errnoValue('ENXIO')).toBe(6);
    expect(errnoValue('EOPNOTSUPP')).toBe(95);
    expect(errnoValue('EWOULDBLOCK')).toBe(11);
    expect(errnoName(-34)).toBe('ERANGE');
    expect(errnoName(9999)).toBeUndefined();
  });

  it('isErrno checks shape, not class', () => {
    expect(isErrno({ code: 'EBUSY', errno: -16 }, 'EBUSY')).toBe(true);
    expect(isErrno(new Error('x'))).toBe(false);
    expect(isErrno(kerr('EAGAIN', 'x'), 'EWOULDBLOCK')).toBe(true);
    expect(isErrno(kerr('EAGAIN', 'x'), 'EBUSY')).toBe(false);
  });
});

describe('printk and WARN (kernel/printk, asm-generic/bug.h)', () => {
  it('keeps records up to the log level, line by line', () => {
    const lines: string[] = [];
    const log = new Printk({ console: (l) => lines.push(l) });
    log.info('hello\nworld');
    log.debug('hidden');
    expect(log.records().map((r) => r.text)).toEqual(['hello', 'world']);
    expect(log.records()[0]!.level).toBe(KERN_INFO);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\s+\d+\.\d{6}\] hello$/);
    log.loglevel = KERN_DEBUG;
    log.debug('shown');
    expect(log.dmesg().at(-1)).toMatch(/shown$/);
  });

  it('WARN returns its condition and taints; WARN_ONCE reports once per site', () => {
    const log = new Printk();
    expect(log.warn(false, 'a.c:f', 'no')).toBe(false);
    expect(log.warnings).toBe(0);
    expect(log.warnOnce(true, 'a.c:f', 'once')).toBe(true);
    expect(log.warnOnce(true, 'a.c:f', 'once')).toBe(true);
    expect(log.warnOnce(true, 'b.c:g', 'other')).toBe(true);
    expect(log.warnings).toBe(2);
    const text = log.dmesg().join('\n');
    expect(text.match(/WARNING: at a\.c:f/g)).toHaveLength(1);
    expect(text).toContain('cut here');
    log.clear();
    expect(log.dmesg()).toEqual([]);
    expect(log.warnings).toBe(2);
  });
});

describe('kref (include/linux/kref.h)', () => {
  it('releases exactly once on the last put', () => {
    const log = new Printk();
    const k = new Kref(log);
    let released = 0;
    k.get();
    expect(k.put(() => released++)).toBe(false);
    expect(k.put(() => released++)).toBe(true);
    expect(released).toBe(1);
    expect(k.put(() => released++)).toBe(false);
    expect(released).toBe(1);
    expect(log.warnings).toBe(1);
    k.get();
    expect(k.read()).toBe(0);
    expect(log.warnings).toBe(2);
    expect(k.getUnlessZero()).toBe(false);
  });
});
