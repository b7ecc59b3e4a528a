/**
 * ndctl test/device-dax.c at 4K, 2M and 1G alignment: fsdax namespace seeded with salted data through its block
 * device, reconfigured to devdax with the data intact, MAP_PRIVATE refused, a shared read mapping verifies the
 * data, a shared RW mapping works, and resetting the namespace to raw while mapped makes the next access SIGBUS.
 */
import { MAP_PRIVATE, MAP_SHARED, O_RDONLY, O_RDWR, PROT_READ, PROT_WRITE, SIGBUS } from '@daxsim/kernel';
import { describe, expect, it } from 'vitest';
import { sparsePlatform } from '../src/nfit.js';
import {
  blockDevice,
  createNamespace,
  daxChardevs,
  driverOf,
  read,
  reconfigureNamespace,
  regions,
  writeBlock,
} from './libndctl.js';
import { bootNfitTest, GiB, KiB, MiB } from './nd_fixture.js';

const VERIFY_BUF_SIZE = 4096;

/** The 4 KiB buffer ndctl writes at byte offset `i`: u32 word j holds salt + i + j. */
function salted(salt: number, i: number): Buffer {
  const words = new Uint32Array(VERIFY_BUF_SIZE / 4);
  for (let j = 0; j < words.length; j++) words[j] = (salt + i + j) >>> 0;
  return Buffer.from(words.buffer);
}

/** The offsets ndctl fills over VERIFY_SIZE (2 * align); at 1G every 2 MiB stands for its stride. */
function verifyOffsets(align: number): number[] {
  const size = 2 * align;
  const step = align >= GiB ? 2 * MiB : VERIFY_BUF_SIZE;
  const out: number[] = [];
  for (let i = 0; i < size; i += step) out.push(i);
  return out;
}

describe.each([
  ['4K', 4 * KiB],
  ['2M', 2 * MiB],
  ['1G', GiB],
])('device-dax at %s', (_label, align) => {
  it('keeps fsdax data across reconfiguration to devdax, and SIGBUSes after reset to raw', async () => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    await s.nfitTest.addPlatform(
      'nfit_test.2',
      sparsePlatform({ size: 4 * GiB, base: 64 * GiB * 1024, providerName: 'nfit_test.2' }),
    );
    const [region] = regions(k, 'nfit_test.2');
    expect(region).toBeDefined();

    const ns = await createNamespace(k, region!, { mode: 'fsdax', map: 'dev', align });
    const pfn = read(k, ns, 'holder');
    expect(pfn).toMatch(/^pfn\d+\.\d+$/);
    expect(read(k, ns, 'mode')).toBe('memory');
    expect(driverOf(k, pfn)).toBe('nd_pmem');
    const disk = blockDevice(k, pfn);
    const salt = 0x1234567;
    for (const i of verifyOffsets(align)) writeBlock(k, disk, i, salted(salt, i));

    await reconfigureNamespace(k, region!, ns, { mode: 'devdax', map: 'dev', align });
    expect(read(k, ns, 'mode')).toBe('dax');
    const daxdev = read(k, ns, 'holder');
    expect(driverOf(k, daxdev)).toBe('dax_pmem');
    const [chardev] = daxChardevs(k, daxdev);
    expect(chardev).toBe(`dax${region!.slice(6)}.0`);
    expect(read(k, daxdev, 'align')).toBe(String(align));

    const t = k.spawn('device-dax');
    let fd = t.open(`/dev/${chardev}`, O_RDONLY);
    expect(() => t.mmap(0, 2 * align, PROT_READ, MAP_PRIVATE, fd, 0)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    let buf = t.mmap(0, 2 * align, PROT_READ, MAP_SHARED, fd, 0);
    expect(buf % align).toBe(0);
    const wrong = verifyOffsets(align).filter(
      (i) => !Buffer.from(t.load(buf + i, VERIFY_BUF_SIZE)).equals(salted(salt, i)),
    );
    expect(wrong).toEqual([]);

    t.close(fd);
    t.munmap(buf, 2 * align);
    fd = t.open(`/dev/${chardev}`, O_RDWR);
    buf = t.mmap(0, 2 * align, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    t.store(buf + align, new Uint8Array([0xff, 0, 0, 0]));
    expect(t.load(buf + align, 4)).toEqual(new Uint8Array([0xff, 0, 0, 0]));

    await reconfigureNamespace(k, region!, ns, { mode: 'raw' });
    expect(read(k, ns, 'mode')).toBe('raw');
    let sig: unknown;
    try {
      t.store(buf + align, new Uint8Array([0xff, 0, 0, 0]));
    } catch (e) {
      sig = e;
    }
    expect(sig).toMatchObject({ signal: 'SIGBUS', signo: SIGBUS, addr: buf + align });
    t.close(fd);
    t.exit();
    k.reapTask(t);
  }, 60_000);
});
