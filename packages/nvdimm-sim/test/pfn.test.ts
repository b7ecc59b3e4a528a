import { describe, expect, it } from 'vitest';
import { ndFletcher64, ndSbChecksum } from '../src/fletcher64.js';
import {
  DAX_LABEL_RESERVE,
  DAX_SIG,
  decodePfnSb,
  encodePfnSb,
  HPAGE_SIZE,
  ND_PFN_SB_OFFSETS,
  type NdPfnSb,
  PFN_MODE_NONE,
  PFN_MODE_PMEM,
  PFN_MODE_RAM,
  PFN_SB_OFFSET,
  PFN_SB_SIZE,
  PFN_SIG,
  PFN_SIG_LEN,
  type PfnSbInitParams,
  type PfnSbWant,
  pfnSbInit,
  pfnSbValidate,
} from '../src/pfn.js';

const SZ_4K = 4096;
const SZ_2M = 2 * 1024 * 1024;
const SZ_32M = 32 * 1024 * 1024;
const SZ_1G = 1024 * 1024 * 1024;
const SZ_1T = 1024 * SZ_1G;
/** A 1 GiB-aligned physical base, as nfit_test and the pmem platforms place their ranges. */
const BASE = 4 * SZ_1G;

const NS_UUID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const PFN_UUID = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);

function initParams(over: Partial<PfnSbInitParams> = {}): PfnSbInitParams {
  return {
    uuid: PFN_UUID,
    parentUuid: NS_UUID,
    nsStart: BASE,
    nsSize: SZ_32M,
    mode: PFN_MODE_PMEM,
    align: SZ_2M,
    isDax: false,
    readOnly: false,
    ...over,
  };
}

function initOk(over: Partial<PfnSbInitParams> = {}): { block: Uint8Array; sb: NdPfnSb } {
  const r = pfnSbInit(initParams(over));
  if (!r.ok) throw new Error(`init failed: ${r.errno} ${r.reason}`);
  return r;
}

function want(over: Partial<PfnSbWant> = {}): PfnSbWant {
  return {
    sig: PFN_SIG,
    parentUuid: NS_UUID,
    nsStart: BASE,
    nsSize: SZ_32M,
    nsName: 'namespace0.0',
    ...over,
  };
}

function reencode(sb: NdPfnSb, over: Partial<NdPfnSb>): Uint8Array {
  return encodePfnSb({ ...sb, ...over });
}

describe('struct nd_pfn_sb layout (pfn.h)', () => {
  it('is 4096 bytes with every field at its C offset, little-endian', () => {
    const buf = encodePfnSb({
      signature: DAX_SIG,
      uuid: PFN_UUID,
      parentUuid: NS_UUID,
      flags: 0x11223344,
      versionMajor: 0x0102,
      versionMinor: 0x0304,
      dataoff: 0x1_2345_6789_a000,
      npfns: 0x98765,
      mode: PFN_MODE_PMEM,
      startPad: 0x1000,
      endTrunc: 0x2000,
      align: 0x40000000,
    });
    const v = new DataView(buf.buffer);
    expect(buf.length).toBe(PFN_SB_SIZE);
    expect(String.fromCharCode(...buf.subarray(0, 16))).toBe('NVDIMM_DAX_INFO\0');
    expect([...buf.subarray(16, 32)]).toEqual([...PFN_UUID]);
    expect([...buf.subarray(32, 48)]).toEqual([...NS_UUID]);
    expect(v.getUint32(48, true)).toBe(0x11223344);
    expect(v.getUint16(52, true)).toBe(0x0102);
    expect(v.getUint16(54, true)).toBe(0x0304);
    expect(v.getBigUint64(56, true)).toBe(0x1_2345_6789_a000n);
    expect(v.getBigUint64(64, true)).toBe(0x98765n);
    expect(v.getUint32(72, true)).toBe(2);
    expect(v.getUint32(76, true)).toBe(0x1000);
    expect(v.getUint32(80, true)).toBe(0x2000);
    expect(v.getUint32(84, true)).toBe(0x40000000);
    expect(buf.subarray(88, 4088).every((b) => b === 0)).toBe(true);
    const zeroed = buf.slice();
    zeroed.fill(0, 4088);
    expect(v.getBigUint64(4088, true)).toBe(ndFletcher64(zeroed, 4096, true));
    expect(ND_PFN_SB_OFFSETS).toMatchObject({ dataoff: 56, mode: 72, align: 84, checksum: 4088 });
    expect([PFN_SIG_LEN, PFN_SB_OFFSET, PFN_MODE_NONE, PFN_MODE_RAM, PFN_MODE_PMEM]).toEqual([
      16, 4096, 0, 1, 2,
    ]);
    expect(PFN_SIG).toBe('NVDIMM_PFN_INFO\0');
    expect([DAX_LABEL_RESERVE, HPAGE_SIZE]).toEqual([128 * 1024, SZ_2M]);
  });

  it('round-trips through decode, and the checksum ignores its own field', () => {
    const { block, sb } = initOk();
    expect(decodePfnSb(block)).toEqual(sb);
    expect(encodePfnSb(sb)).toEqual(block);
    const changed = block.slice();
    changed.fill(0xee, 4088);
    expect(ndSbChecksum(changed)).toBe(sb.checksum);
  });

  it('refuses to encode fields that do not fit', () => {
    const { sb } = initOk();
    for (const over of [
      { dataoff: 2 ** 53 },
      { align: 2 ** 32 },
      { versionMinor: 65536 },
      { signature: 'short' },
    ])
      expect(() => reencode(sb, over)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('nd_pfn_init layout', () => {
  // npfns0 = (32M - 8K) / 4K = 8190; 8K + the memmap (64 * 8190 = 524160 B) + reserve aligns to max(align, 2M).
  const rows: Array<[string, Partial<PfnSbInitParams>, number, number]> = [
    // 8K + 512K -> 2M, whatever the smaller align: fsdax and devdax agree, so data survives a reconfiguration
    ['fsdax map=dev 4K', { align: SZ_4K }, 0x200000, 7680],
    // 8K + 512K + 128K -> 2M
    ['devdax map=dev 4K', { align: SZ_4K, isDax: true }, 0x200000, 7680],
    ['fsdax map=dev 2M', { align: SZ_2M }, 0x200000, 7680],
    ['devdax map=dev 2M', { align: SZ_2M, isDax: true }, 0x200000, 7680],
    ['fsdax map=mem 4K', { mode: PFN_MODE_RAM, align: SZ_4K }, 0x2000, 8190],
    ['devdax map=mem 4K', { mode: PFN_MODE_RAM, align: SZ_4K, isDax: true }, 0x22000, 8158],
    ['devdax map=mem 2M', { mode: PFN_MODE_RAM, align: SZ_2M, isDax: true }, 0x200000, 7680],
    // npfns0 = 2^28 - 2; memmap 64 * npfns0 rounds to 16G; 8K + 16G -> 17G
    ['1 TiB fsdax map=dev 1G', { nsSize: SZ_1T, align: SZ_1G }, 17 * SZ_1G, (1024 - 17) * 262144],
    // npfns0 = 2^30 - 2; memmap 64G; 8K + 64G + 128K -> 65G
    ['4 TiB devdax map=dev 1G', { nsSize: 4 * SZ_1T, align: SZ_1G, isDax: true }, 65 * SZ_1G, 4031 * 262144],
    [
      '1 TiB devdax map=mem 1G',
      { nsSize: SZ_1T, mode: PFN_MODE_RAM, align: SZ_1G, isDax: true },
      SZ_1G,
      1023 * 262144,
    ],
  ];
  for (const [name, over, dataoff, npfns] of rows) {
    it(name, () => {
      const { sb, block } = initOk(over);
      expect([sb.dataoff, sb.npfns]).toEqual([dataoff, npfns]);
      expect(sb).toMatchObject({
        signature: over.isDax ? DAX_SIG : PFN_SIG,
        versionMajor: 1,
        versionMinor: 2,
        flags: 0,
        startPad: 0,
        endTrunc: 0,
        align: over.align,
        mode: over.mode ?? PFN_MODE_PMEM,
      });
      const got = pfnSbValidate(block, want({ sig: sb.signature, nsSize: over.nsSize ?? SZ_32M }));
      expect(got).toMatchObject({ ok: true, align: over.align, mode: over.mode ?? PFN_MODE_PMEM });
    });
  }

  it('accounts start_pad and end_trunc', () => {
    // start = base + 64K; npfns0 = (32M - 64K - 128K - 8K) / 4K = 8142; ALIGN(start + 8K + 64 * 8142, 2M) - start
    const { sb } = initOk({ align: SZ_4K, startPad: 0x10000, endTrunc: 0x20000 });
    expect([sb.startPad, sb.endTrunc, sb.dataoff]).toEqual([0x10000, 0x20000, 0x1f0000]);
    expect(sb.npfns).toBe((SZ_32M - 0x1f0000 - 0x30000) / SZ_4K);
  });

  it('aligns the data in physical space: a misaligned namespace gets a dataoff validate rejects, as v4.12 did', () => {
    const start = BASE + 3 * SZ_4K;
    // ALIGN(start + 8K, 2M) - start = 2M - 12K
    const { sb, block } = initOk({ nsStart: start, mode: PFN_MODE_RAM, align: SZ_2M });
    expect(sb.dataoff).toBe(SZ_2M - 3 * SZ_4K);
    expect(pfnSbValidate(block, want({ nsStart: start }))).toEqual({
      ok: false,
      errno: 'ENXIO',
      reason: 'bad offset: 0x1fd000 dax disabled align: 0x200000',
    });
  });

  it('ENXIO on a read-only region, for mode none, and when the data would start past the end', () => {
    expect(pfnSbInit(initParams({ readOnly: true, regionName: 'region1' }))).toEqual({
      ok: false,
      errno: 'ENXIO',
      reason: 'region1 is read-only, unable to init metadata',
    });
    expect(pfnSbInit(initParams({ mode: PFN_MODE_NONE }))).toMatchObject({ ok: false, errno: 'ENXIO' });
    expect(pfnSbInit(initParams({ mode: 3 }))).toMatchObject({ ok: false, errno: 'ENXIO' });
    // 2 MiB devdax map=dev 2M: 8K + 2M + 128K -> 4M >= 2M
    expect(pfnSbInit(initParams({ nsSize: SZ_2M, isDax: true, nsName: 'namespace1.0' }))).toEqual({
      ok: false,
      errno: 'ENXIO',
      reason: 'namespace1.0 unable to satisfy requested alignment',
    });
    // exactly at the end is too far: map=mem 1G on a 1G namespace -> dataoff 1G
    expect(pfnSbInit(initParams({ nsSize: SZ_1G, mode: PFN_MODE_RAM, align: SZ_1G }))).toMatchObject({
      ok: false,
      errno: 'ENXIO',
    });
    // smaller than the 8K of info block: the u64 npfns wraps, the memmap is huge, the offset too
    expect(pfnSbInit(initParams({ nsSize: SZ_4K, align: SZ_4K }))).toMatchObject({
      ok: false,
      errno: 'ENXIO',
    });
  });

  it('throws EINVAL for malformed parameters', () => {
    for (const over of [
      { align: 3 * SZ_4K },
      { align: 0 },
      { uuid: new Uint8Array(4) },
      { nsSize: -1 },
      { sig: 'x' },
    ])
      expect(() => pfnSbInit(initParams(over))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('nd_pfn_validate (v4.12)', () => {
  it('accepts a fresh block and hands the probing device its uuid, align and mode', () => {
    const { block, sb } = initOk({ align: SZ_4K, mode: PFN_MODE_RAM });
    const got = pfnSbValidate(block, want());
    expect(got).toEqual({ ok: true, sb, uuid: PFN_UUID, align: SZ_4K, mode: PFN_MODE_RAM });
    expect(pfnSbValidate(block, want({ uuid: PFN_UUID, align: SZ_4K, mode: PFN_MODE_RAM })).ok).toBe(true);
  });

  it('ENODEV: wrong signature, checksum, parent uuid, or a configured device with another uuid', () => {
    const { block, sb } = initOk();
    expect(pfnSbValidate(block, want({ sig: DAX_SIG }))).toMatchObject({ ok: false, errno: 'ENODEV' });
    const torn = block.slice();
    torn[2000]! ^= 0x80;
    expect(pfnSbValidate(torn, want())).toMatchObject({
      ok: false,
      errno: 'ENODEV',
      reason: 'checksum mismatch',
    });
    const badSum = block.slice();
    badSum[4090]! ^= 1;
    expect(pfnSbValidate(badSum, want())).toMatchObject({ ok: false, errno: 'ENODEV' });
    expect(pfnSbValidate(block, want({ parentUuid: PFN_UUID }))).toMatchObject({
      ok: false,
      errno: 'ENODEV',
    });
    expect(pfnSbValidate(block, want({ uuid: NS_UUID, align: sb.align, mode: sb.mode }))).toMatchObject({
      ok: false,
      errno: 'ENODEV',
      reason: 'uuid mismatch',
    });
    expect(pfnSbValidate(new Uint8Array(4096), want())).toMatchObject({ ok: false, errno: 'ENODEV' });
  });

  it('ENXIO for a mode other than ram or pmem, checked before the device settings', () => {
    const { sb } = initOk();
    for (const mode of [PFN_MODE_NONE, 3, 0xffffffff])
      expect(pfnSbValidate(reencode(sb, { mode }), want({ uuid: NS_UUID }))).toMatchObject({
        ok: false,
        errno: 'ENXIO',
      });
  });

  it('EINVAL when a configured device has another align or mode', () => {
    const { block } = initOk({ align: SZ_2M });
    const mismatch = { ok: false, errno: 'EINVAL', reason: 'init failed, settings mismatch' };
    expect(pfnSbValidate(block, want({ uuid: PFN_UUID, align: SZ_4K, mode: PFN_MODE_PMEM }))).toEqual(
      mismatch,
    );
    expect(pfnSbValidate(block, want({ uuid: PFN_UUID, align: SZ_2M, mode: PFN_MODE_RAM }))).toEqual(
      mismatch,
    );
  });

  it('EINVAL when align exceeds the capacity', () => {
    const { sb } = initOk({ align: SZ_2M });
    expect(pfnSbValidate(reencode(sb, { align: SZ_1G }), want())).toEqual({
      ok: false,
      errno: 'EINVAL',
      reason: 'alignment: 40000000 exceeds capacity 2000000',
    });
  });

  it('EBUSY when dataoff is at or past the end of the namespace, even beyond 2^53', () => {
    const { sb } = initOk({ align: SZ_4K });
    const busy = { ok: false, errno: 'EBUSY', reason: 'pfn array size exceeds capacity of namespace0.0' };
    expect(pfnSbValidate(reencode(sb, { dataoff: SZ_32M }), want())).toEqual(busy);
    const huge = reencode(sb, {});
    const v = new DataView(huge.buffer);
    v.setBigUint64(56, 1n << 60n, true);
    v.setBigUint64(4088, ndSbChecksum(huge), true);
    expect(decodePfnSb(huge).dataoff).toBe(Number.POSITIVE_INFINITY);
    expect(pfnSbValidate(huge, want())).toEqual(busy);
  });

  it('ENXIO when dataoff is not aligned to align or to PAGE_SIZE', () => {
    const { sb } = initOk({ align: SZ_2M });
    expect(pfnSbValidate(reencode(sb, { dataoff: 0x202000 }), want())).toEqual({
      ok: false,
      errno: 'ENXIO',
      reason: 'bad offset: 0x202000 dax disabled align: 0x200000',
    });
    expect(pfnSbValidate(reencode(sb, { dataoff: 0x400200 }), want())).toMatchObject({
      ok: false,
      errno: 'ENXIO',
    });
  });

  it('ENXIO for an npfns too large to hold, once the kernel checks pass', () => {
    const { block } = initOk();
    const v = new DataView(block.buffer);
    v.setBigUint64(64, 1n << 62n, true);
    v.setBigUint64(4088, ndSbChecksum(block), true);
    expect(pfnSbValidate(block, want())).toMatchObject({ ok: false, errno: 'ENXIO' });
  });

  it('legacy blocks: below v1.1 the pads read as 0, below v1.2 align is 1 << ilog2(dataoff)', () => {
    const { sb: sb2m } = initOk({ align: SZ_2M });
    const sb = { ...sb2m, dataoff: 0x400000 };
    const v10 = reencode(sb, { versionMinor: 0, startPad: 0x1000, endTrunc: 0x2000, align: SZ_4K });
    const got = pfnSbValidate(v10, want());
    expect(got).toMatchObject({ ok: true, align: 0x400000, sb: { startPad: 0, endTrunc: 0, align: 0 } });
    const v11 = reencode(sb, { versionMinor: 1, startPad: 0x1000, dataoff: 0x800000 });
    expect(pfnSbValidate(v11, want())).toMatchObject({ ok: true, align: 0x800000, sb: { startPad: 0x1000 } });
    // 0x600000 -> align 0x400000, which 0x600000 is not aligned to
    expect(pfnSbValidate(reencode(sb, { versionMinor: 1, dataoff: 0x600000 }), want())).toMatchObject({
      errno: 'ENXIO',
    });
    // a v1.2 block with align 0 gets the same default
    expect(pfnSbValidate(reencode(sb, { align: 0 }), want())).toMatchObject({ ok: true, align: 0x400000 });
    // and a configured device compares against that default
    expect(pfnSbValidate(v10, want({ uuid: PFN_UUID, align: 0x400000, mode: PFN_MODE_PMEM })).ok).toBe(true);
    expect(pfnSbValidate(v10, want({ uuid: PFN_UUID, align: SZ_2M, mode: PFN_MODE_PMEM }))).toMatchObject({
      errno: 'EINVAL',
    });
  });

  it('legacy block with dataoff 0: 1UL << ilog2(0) is 2^63 on x86, which exceeds any capacity', () => {
    const { sb } = initOk();
    expect(pfnSbValidate(reencode(sb, { versionMinor: 1, dataoff: 0 }), want())).toEqual({
      ok: false,
      errno: 'EINVAL',
      reason: 'alignment: 8000000000000000 exceeds capacity 2000000',
    });
  });

  it('takes 1 TiB namespaces and 1 GiB alignment exactly', () => {
    const { block, sb } = initOk({ nsSize: SZ_1T, align: SZ_1G, isDax: true });
    const got = pfnSbValidate(block, want({ sig: DAX_SIG, nsSize: SZ_1T }));
    expect(got).toMatchObject({ ok: true, align: SZ_1G });
    expect(
      pfnSbValidate(reencode(sb, { dataoff: SZ_1T }), want({ sig: DAX_SIG, nsSize: SZ_1T })),
    ).toMatchObject({
      errno: 'EBUSY',
    });
    expect(
      pfnSbValidate(reencode(sb, { dataoff: SZ_1T - SZ_1G }), want({ sig: DAX_SIG, nsSize: SZ_1T })),
    ).toMatchObject({ ok: true });
  });
});
