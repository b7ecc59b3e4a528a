import type { NfitPlatform } from '@daxsim/nvdimm-sim';
import { describe, expect, it } from 'vitest';
import { describeNfitPlatform, nfitTest0Platform, validateNfitPlatform } from '../src/index.js';
import { errno, errnoWith, GiB, KiB, MiB } from './helpers.js';

const BASE = 16 * GiB;

describe('describeNfitPlatform', () => {
  it('fills handles, serials, label sizes, way sizes and DPA offsets', () => {
    const p = describeNfitPlatform({
      dimms: [{ size: 64 * MiB }, { size: 64 * MiB, labelSize: 256 * KiB, handle: 0x101 }],
      spas: [
        { base: BASE, size: 64 * MiB, interleave: [0, 1] },
        { base: BASE + GiB, interleave: [{ dimm: 0, size: 16 * MiB }] },
        { base: BASE + 2 * GiB, size: 4 * MiB, type: 'vcd' },
      ],
    });
    expect(p).toEqual({
      providerName: 'ACPI.NFIT',
      dimms: [
        { handle: 0, physId: 0, serial: 0xffffffff, size: 64 * MiB, labelSize: 128 * KiB, flags: 0 },
        { handle: 0x101, physId: 1, serial: 0xfffffefe, size: 64 * MiB, labelSize: 256 * KiB, flags: 0 },
      ],
      spas: [
        {
          rangeIndex: 1,
          type: 'pmem',
          base: BASE,
          size: 64 * MiB,
          readOnly: false,
          mappings: [
            { handle: 0, dpa: 0, size: 32 * MiB },
            { handle: 0x101, dpa: 0, size: 32 * MiB },
          ],
        },
        {
          rangeIndex: 2,
          type: 'pmem',
          base: BASE + GiB,
          size: 16 * MiB,
          readOnly: false,
          mappings: [{ handle: 0, dpa: 32 * MiB, size: 16 * MiB }],
        },
        { rangeIndex: 3, type: 'vcd', base: BASE + 2 * GiB, size: 4 * MiB, readOnly: true, mappings: [] },
      ],
    });
  });

  it('reads a description parsed from JSON', () => {
    const json = `{"providerName":"nfit_test.0","dimms":[{"size":33554432,"flags":8}],
      "spas":[{"base":68719476736,"interleave":[0],"numaNode":1}]}`;
    const p = describeNfitPlatform(JSON.parse(json));
    expect(p.providerName).toBe('nfit_test.0');
    expect(p.dimms[0]!.flags).toBe(8);
    expect(p.spas[0]).toMatchObject({
      size: 32 * MiB,
      numaNode: 1,
      mappings: [{ handle: 0, dpa: 0, size: 32 * MiB }],
    });
  });

  it('rejects overlapping SPA ranges', () => {
    expect(() =>
      describeNfitPlatform({
        spas: [
          { base: BASE, size: 8 * MiB },
          { base: BASE + 4 * MiB, size: 8 * MiB },
        ],
      }),
    ).toThrow(errnoWith('EINVAL', 'overlaps'));
  });

  it('rejects a mapping beyond its DIMM', () => {
    expect(() =>
      describeNfitPlatform({
        dimms: [{ size: 32 * MiB }],
        spas: [{ base: BASE, interleave: [{ dimm: 0, dpa: 16 * MiB, size: 32 * MiB }] }],
      }),
    ).toThrow(errnoWith('EINVAL', 'goes beyond DIMM 0x0'));
  });

  it('rejects a misaligned base', () => {
    expect(() =>
      describeNfitPlatform({ dimms: [{ size: 32 * MiB }], spas: [{ base: BASE + 2048, interleave: [0] }] }),
    ).toThrow(errnoWith('EINVAL', 'is not page-aligned'));
  });

  it('rejects interleave sizes that do not add up', () => {
    const dimms = [{ size: 32 * MiB }, { size: 32 * MiB }];
    expect(() =>
      describeNfitPlatform({
        dimms,
        spas: [
          {
            base: BASE,
            size: 32 * MiB,
            interleave: [
              { dimm: 0, size: 16 * MiB },
              { dimm: 1, size: 8 * MiB },
            ],
          },
        ],
      }),
    ).toThrow(errnoWith('EINVAL', 'do not add up'));
    expect(() =>
      describeNfitPlatform({
        dimms,
        spas: [
          {
            base: BASE,
            interleave: [
              { dimm: 0, size: 16 * MiB },
              { dimm: 1, size: 8 * MiB },
            ],
          },
        ],
      }),
    ).toThrow(errnoWith('EINVAL', 'do not add up'));
    expect(() =>
      describeNfitPlatform({
        dimms: [...dimms, { size: 32 * MiB }],
        spas: [{ base: BASE, size: 16 * KiB, interleave: [0, 1, 2] }],
      }),
    ).toThrow(errnoWith('EINVAL', 'whole ways'));
  });

  it('rejects other inconsistencies with messages naming them', () => {
    const d = [{ size: 32 * MiB }, { size: 32 * MiB, labelSize: 0 }];
    const cases: [Parameters<typeof describeNfitPlatform>[0], string][] = [
      [{ dimms: d, spas: [{ base: BASE, interleave: [0, 1] }] }, 'mixes labelled and label-less'],
      [{ dimms: d, spas: [{ base: BASE, interleave: [0, 0] }] }, 'a second time'],
      [{ dimms: d, spas: [{ base: BASE, interleave: [2] }] }, 'does not name one of the 2 DIMMs'],
      [{ dimms: d, spas: [{ base: BASE, type: 'vcd', interleave: [0] }] }, 'virtual CD'],
      [{ dimms: d, spas: [{ base: BASE }] }, 'size is missing'],
      [{ dimms: d, spas: [{ base: BASE, interleave: [{ dimm: 0, dpa: 40 * MiB }] }] }, 'dimms[0]'],
      [
        {
          dimms: d,
          spas: [
            { base: BASE, interleave: [{ dimm: 0, dpa: 0, size: 16 * MiB }] },
            { base: BASE + GiB, interleave: [{ dimm: 0, dpa: 8 * MiB, size: 16 * MiB }] },
          ],
        },
        'overlaps the DPA of DIMM 0x0',
      ],
      [
        {
          dimms: [
            { size: 32 * MiB, handle: 1 },
            { size: 32 * MiB, handle: 1 },
          ],
          spas: [],
        },
        'repeats handle 0x1',
      ],
      [{ dimms: [{ size: 32 * MiB, labelSize: 1000 }], spas: [] }, 'not a multiple of 256'],
      [{ dimms: [{ size: 32 * MiB, flags: 0x80 }], spas: [] }, 'dimms[0].flags'],
      [{ dimms: [{ size: 3000 }], spas: [] }, 'dimms[0].size'],
      [{ spas: [{ base: 2 ** 52 - 4096, size: 8192 }] }, 'beyond the physical address space'],
    ];
    for (const [desc, text] of cases)
      expect(() => describeNfitPlatform(desc), text).toThrow(errnoWith('EINVAL', text));
  });

  it('rejects malformed JSON shapes with EINVAL', () => {
    const bad: unknown[] = [
      null,
      { spas: {} },
      { dimms: [{ size: '32M' }], spas: [] },
      { dimms: [null], spas: [] },
      { spas: [{ base: '0x1000', size: 4096 }] },
      { spas: [{ base: BASE, size: 4096, type: 'blk' }] },
      { spas: [{ base: BASE, size: 4096, readOnly: 'yes' }] },
      { dimms: [{ size: '1G' }], spas: [{ base: BASE, interleave: [0] }] },
      { dimms: [{ size: 4096 }], spas: [{ base: BASE, interleave: [{ dimm: 0, dpa: '0' }] }] },
      { dimms: [{ size: 4096 }], spas: [{ base: BASE, size: -4096, interleave: [0] }] },
    ];
    for (const desc of bad) expect(() => describeNfitPlatform(desc as never)).toThrow(errno('EINVAL'));
  });
});

describe('validateNfitPlatform', () => {
  it('rejects repeated range indexes and unknown handles', () => {
    const p = nfitTest0Platform(BASE);
    const dupIndex: NfitPlatform = { ...p, spas: [p.spas[0]!, { ...p.spas[1]!, rangeIndex: 1 }] };
    expect(() => validateNfitPlatform(dupIndex)).toThrow(errnoWith('EINVAL', 'repeats range index 1'));
    const unknown: NfitPlatform = { ...p, dimms: p.dimms.slice(0, 3) };
    expect(() => validateNfitPlatform(unknown)).toThrow(errnoWith('EINVAL', 'unknown DIMM handle 0x101'));
  });
});
