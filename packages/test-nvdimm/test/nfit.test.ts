import { describe, expect, it } from 'vitest';
import {
  DIMM_SIZE,
  LABEL_SIZE,
  NFIT_TEST_HANDLES,
  NFIT_TEST_SPA_STRIDE,
  NFIT_TEST_SPAN,
  nfitDimmHandle,
  nfitTest0Platform,
  nfitTest1Platform,
  nfitTestDefaultBase,
  SPA_VCD_SIZE,
  SPA0_SIZE,
  SPA1_SIZE,
  SPA2_SIZE,
  sparsePlatform,
  validateNfitPlatform,
} from '../src/index.js';
import { errno, GiB, KiB, MiB, TiB } from './helpers.js';

const BASE = 64 * GiB;

describe('nfit_test.0', () => {
  const p = nfitTest0Platform(BASE);

  it('has the kernel sizes', () => {
    expect(DIMM_SIZE).toBe(32 * MiB);
    expect(LABEL_SIZE).toBe(128 * KiB);
    expect(SPA0_SIZE).toBe(32 * MiB);
    expect(SPA1_SIZE).toBe(64 * MiB);
    expect(SPA2_SIZE).toBe(32 * MiB);
    expect(SPA_VCD_SIZE).toBe(4 * MiB);
  });

  it('has four DIMMs with handle[] handles, physical ids 0..3 and serials ~handle', () => {
    expect(NFIT_TEST_HANDLES).toEqual([0x0, 0x1, 0x100, 0x101, 0x1000]);
    expect(p.providerName).toBe('nfit_test.0');
    expect(p.dimms).toEqual([
      { handle: 0x0, physId: 0, serial: 0xffffffff, size: 32 * MiB, labelSize: 128 * KiB, flags: 0 },
      { handle: 0x1, physId: 1, serial: 0xfffffffe, size: 32 * MiB, labelSize: 128 * KiB, flags: 0 },
      { handle: 0x100, physId: 2, serial: 0xfffffeff, size: 32 * MiB, labelSize: 128 * KiB, flags: 0 },
      { handle: 0x101, physId: 3, serial: 0xfffffefe, size: 32 * MiB, labelSize: 128 * KiB, flags: 0 },
    ]);
  });

  it('interleaves spa0 2-way over the first half of dimm0/dimm1', () => {
    expect(p.spas[0]).toEqual({
      rangeIndex: 1,
      type: 'pmem',
      base: BASE,
      size: 32 * MiB,
      mappings: [
        { handle: 0x0, dpa: 0, size: 16 * MiB },
        { handle: 0x1, dpa: 0, size: 16 * MiB },
      ],
    });
  });

  it('interleaves spa1 4-way over the second half of dimm0..dimm3', () => {
    expect(p.spas[1]).toEqual({
      rangeIndex: 2,
      type: 'pmem',
      base: BASE + GiB,
      size: 64 * MiB,
      mappings: [
        { handle: 0x0, dpa: 16 * MiB, size: 16 * MiB },
        { handle: 0x1, dpa: 16 * MiB, size: 16 * MiB },
        { handle: 0x100, dpa: 16 * MiB, size: 16 * MiB },
        { handle: 0x101, dpa: 16 * MiB, size: 16 * MiB },
      ],
    });
    expect(p.spas).toHaveLength(2);
  });

  it('leaves the first half of dimm2/dimm3 unmapped (the BLK-only capacity)', () => {
    const mapped = (h: number) =>
      p.spas.flatMap((s) => s.mappings.filter((m) => m.handle === h)).reduce((n, m) => n + m.size, 0);
    expect(NFIT_TEST_HANDLES.slice(0, 4).map(mapped)).toEqual([32 * MiB, 32 * MiB, 16 * MiB, 16 * MiB]);
  });
});

describe('nfit_test.1', () => {
  const p = nfitTest1Platform(BASE);

  it('has one label-less DIMM with the failed and not-armed flags', () => {
    expect(p.providerName).toBe('nfit_test.1');
    expect(p.dimms).toEqual([
      { handle: 0, physId: 0, serial: 0xffffffff, size: 32 * MiB, labelSize: 0, flags: 0x1f },
    ]);
  });

  it('has a flat 32 MiB pmem range and a read-only 4 MiB virtual CD', () => {
    expect(p.spas).toEqual([
      {
        rangeIndex: 1,
        type: 'pmem',
        base: BASE,
        size: 32 * MiB,
        mappings: [{ handle: 0, dpa: 0, size: 32 * MiB }],
      },
      { rangeIndex: 0, type: 'vcd', base: BASE + GiB, size: 4 * MiB, mappings: [], readOnly: true },
    ]);
  });
});

describe('placement', () => {
  it('keeps the two default instances apart and above 4 GiB', () => {
    const a = nfitTest0Platform(nfitTestDefaultBase(0));
    const b = nfitTest1Platform(nfitTestDefaultBase(1));
    const all = [...a.spas, ...b.spas].sort((x, y) => x.base - y.base);
    expect(all[0]!.base).toBeGreaterThanOrEqual(4 * GiB);
    for (let i = 1; i < all.length; i++)
      expect(all[i]!.base).toBeGreaterThanOrEqual(all[i - 1]!.base + all[i - 1]!.size);
    expect(nfitTestDefaultBase(1) - nfitTestDefaultBase(0)).toBeGreaterThanOrEqual(NFIT_TEST_SPAN);
    for (const s of all) expect(s.base % NFIT_TEST_SPA_STRIDE).toBe(0);
  });

  it('refuses a base that is not page-aligned', () => {
    expect(() => nfitTest0Platform(BASE + 512)).toThrow(errno('EINVAL'));
    expect(() => nfitTest1Platform(-4096)).toThrow(errno('EINVAL'));
  });
});

describe('sparsePlatform', () => {
  it('maps one labelled DIMM of any size flat', () => {
    const p = sparsePlatform({ size: TiB });
    expect(p).toEqual({
      providerName: 'ACPI.NFIT',
      dimms: [{ handle: 0, physId: 0, serial: 0xffffffff, size: TiB, labelSize: 128 * KiB, flags: 0 }],
      spas: [
        { rangeIndex: 1, type: 'pmem', base: TiB, size: TiB, mappings: [{ handle: 0, dpa: 0, size: TiB }] },
      ],
    });
  });

  it('takes a base, label size, handle and numa node', () => {
    const p = sparsePlatform({ size: 2 * GiB, base: 8 * GiB, labelSize: 0, handle: 0x10001, numaNode: 1 });
    expect(p.dimms[0]).toMatchObject({ handle: 0x10001, serial: 0xfffefffe, labelSize: 0 });
    expect(p.spas[0]).toMatchObject({
      base: 8 * GiB,
      numaNode: 1,
      mappings: [{ handle: 0x10001, dpa: 0, size: 2 * GiB }],
    });
  });

  it('refuses sizes that are not whole pages', () => {
    expect(() => sparsePlatform({ size: GiB + 100 })).toThrow(errno('EINVAL'));
    expect(() => sparsePlatform({ size: 0 })).toThrow(errno('EINVAL'));
  });
});

it('NFIT_DIMM_HANDLE packs node, socket, imc, channel and dimm', () => {
  expect(nfitDimmHandle(1, 0, 0, 0, 1)).toBe(0x10001);
  expect(nfitDimmHandle(0xfff, 0xf, 0xf, 0xf, 0xf)).toBe(0xfffffff);
  expect(nfitDimmHandle(0, 1, 2, 3, 4)).toBe(0x1234);
});

it('the built-in platforms pass validation', () => {
  expect(() => validateNfitPlatform(nfitTest0Platform(BASE))).not.toThrow();
  expect(() => validateNfitPlatform(nfitTest1Platform(BASE))).not.toThrow();
});
