import { describe, expect, it } from 'vitest';
import { kerr } from '../src/errno.js';
import { Sysfs } from '../src/fs/sysfs/kernfs.js';
import { Printk } from '../src/kernel/printk.js';

describe('sysfs (fs/sysfs, fs/kernfs)', () => {
  function tree() {
    const log = new Printk();
    const s = new Sysfs(log);
    s.createDir('/sys/devices');
    s.createDir('/sys/devices/dev0');
    s.createDir('/sys/class');
    s.createDir('/sys/class/dax');
    s.createLink('/sys/class/dax/dev0', '/sys/devices/dev0');
    let value = 'abc';
    s.createFile('/sys/devices/dev0', { name: 'ro', mode: 0o444, show: () => 'ro\n' });
    s.createFile('/sys/devices/dev0', {
      name: 'rw',
      mode: 0o644,
      show: () => `${value}\n`,
      store: (v) => {
        if (v.trim() === 'bad') throw kerr('EINVAL', 'write');
        value = v.trim();
      },
    });
    s.createFile('/sys/devices/dev0', { name: 'wo', mode: 0o200, store: () => {} });
    s.createFile('/sys/devices/dev0', { name: 'noshow', mode: 0o444 });
    return { s, log };
  }

  it('reads and writes attributes through symlinks', async () => {
    const { s } = tree();
    expect(s.read('/sys/class/dax/dev0/ro')).toBe('ro\n');
    await s.write('/sys/class/dax/dev0/rw', 'xyz\n');
    expect(s.read('/sys/devices/dev0/rw')).toBe('xyz\n');
    expect(s.readdir('/sys/class/dax/dev0')).toEqual(['noshow', 'ro', 'rw', 'wo']);
    expect(s.readlink('/sys/class/dax/dev0')).toBe('../../devices/dev0');
    expect(s.realpath('/sys/class/dax/dev0/ro')).toBe('/sys/devices/dev0/ro');
    expect(s.typeOf('/sys/class/dax/dev0')).toBe('link');
    expect(s.read('/sys/class/dax/../../devices/dev0/ro')).toBe('ro\n');
    expect(s.readdir('/sys/class/dax/dev0/..')).toEqual(['dev0']);
  });

  it('answers with the errno Linux gives', async () => {
    const { s } = tree();
    expect(() => s.read('/sys/devices/nope')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => s.read('/sys/devices/dev0')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
    expect(() => s.read('/sys/devices/dev0/wo')).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => s.read('/sys/devices/dev0/noshow')).toThrow(expect.objectContaining({ code: 'EIO' }));
    await expect(s.write('/sys/devices/dev0/ro', '1')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(s.write('/sys/devices/dev0/rw', 'bad')).rejects.toMatchObject({ code: 'EINVAL' });
    expect(s.read('/sys/devices/dev0/rw')).toBe('abc\n');
    expect(() => s.readdir('/sys/devices/dev0/ro')).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => s.readlink('/sys/devices/dev0')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('duplicates warn with EEXIST; remove is recursive and counts nodes back', () => {
    const { s, log } = tree();
    const before = s.nodeCount;
    expect(() => s.createDir('/sys/devices/dev0')).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(log.dmesg().join('\n')).toContain("sysfs: cannot create duplicate filename '/sys/devices/dev0'");
    expect(s.nodeCount).toBe(before);
    expect(() => s.createDir('/sys/nothere/x')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    s.remove('/sys/devices/dev0');
    expect(s.nodeCount).toBe(before - 5);
    expect(s.exists('/sys/class/dax/dev0')).toBe(false);
    s.remove('/sys/devices/dev0');
    expect(s.nodeCount).toBe(before - 5);
  });
});

describe('sysfs symlink text (kernfs_get_target_path)', () => {
  it('climbs to the common ancestor of the target parent, as Linux prints it', () => {
    const s = new Sysfs(new Printk());
    s.createDir('/sys/devices');
    s.createDir('/sys/devices/region0');
    s.createDir('/sys/devices/region0/dax0.1');
    s.createDir('/sys/devices/region0/dax0.1/dax');
    s.createDir('/sys/devices/region0/dax0.1/dax/dax0.0');
    s.createLink('/sys/devices/region0/dax0.1/dax/dax0.0/device', '/sys/devices/region0/dax0.1');
    expect(s.readlink('/sys/devices/region0/dax0.1/dax/dax0.0/device')).toBe('../../../dax0.1');
    expect(s.realpath('/sys/devices/region0/dax0.1/dax/dax0.0/device')).toBe('/sys/devices/region0/dax0.1');
  });
});
