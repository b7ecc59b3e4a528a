import { describe, expect, it } from 'vitest';
import { ndFletcher64 } from '../src/fletcher64.js';
import {
  bestSeq,
  decodeNamespaceIndex,
  decodeNamespaceLabel,
  encodeNamespaceIndex,
  encodeNamespaceLabel,
  LabelArea,
  type LabelStorage,
  ND_LABEL_MIN_SIZE,
  ND_NAMESPACE_INDEX_OFFSETS,
  ND_NAMESPACE_LABEL_OFFSETS,
  type NdNamespaceLabel,
  NSINDEX_SIGNATURE,
  NSLABEL_FLAG_LOCAL,
  NSLABEL_FLAG_UPDATING,
  ndIncSeq,
  ndLabelActiveSlots,
  ndLabelAllocSlot,
  ndLabelCopy,
  ndLabelFreeSlot,
  ndLabelGenId,
  ndLabelNextNsindex,
  ndLabelNfree,
  ndLabelReserveDpa,
  ndLabelValidate,
  ndNamespaceIndexChecksum,
  nvdimmNumLabelSlots,
  SIZEOF_ND_NAMESPACE_LABEL,
  sizeofNamespaceIndex,
  slotValid,
} from '../src/label.js';
import { bootNd, driverOf, MiB, TestNvdimms } from './platform.js';

const SZ_128K = 128 * 1024;

/** A label area in memory whose writes can be made to fail, before writing or after `partial` bytes. */
class MemStorage implements LabelStorage {
  readonly bytes: Uint8Array;
  writes: Array<{ offset: number; length: number }> = [];
  /** Fail the n-th write from now (0 = the next one), after writing `partial` bytes of it. */
  failAt: { n: number; partial: number } | null = null;
  constructor(readonly size: number = SZ_128K) {
    this.bytes = new Uint8Array(size);
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    if (this.failAt !== null) {
      if (this.failAt.n === 0) {
        const { partial } = this.failAt;
        this.failAt = null;
        this.bytes.set(data.subarray(0, partial), offset);
        throw Object.assign(new Error('EIO: input/output error, nvdimm_set_config_data'), {
          code: 'EIO',
          errno: -5,
        });
      }
      this.failAt.n--;
    }
    this.writes.push({ offset, length: data.length });
    this.bytes.set(data, offset);
  }
}

function uuid(n: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => (n * 16 + i * 7 + 1) & 0xff);
}

function label(n: number, dpa = n * 0x100000, rawsize = 0x100000): Omit<NdNamespaceLabel, 'slot'> {
  return {
    uuid: uuid(n),
    name: `ns${n}`,
    flags: NSLABEL_FLAG_UPDATING,
    nlabel: 2,
    position: n % 2,
    isetcookie: 0x8000_0000_0000_0001n + BigInt(n),
    lbasize: 0,
    dpa,
    rawsize,
  };
}

function u64(buf: Uint8Array, off: number): bigint {
  return new DataView(buf.buffer, buf.byteOffset).getBigUint64(off, true);
}
function u32(buf: Uint8Array, off: number): number {
  return new DataView(buf.buffer, buf.byteOffset).getUint32(off, true);
}
function u16(buf: Uint8Array, off: number): number {
  return new DataView(buf.buffer, buf.byteOffset).getUint16(off, true);
}

/** Rewrites the checksum of the index block at `off` (256 bytes, a 128 KiB area). */
function rechecksum(bytes: Uint8Array, off: number, size = 256): void {
  const block = bytes.subarray(off, off + size);
  new DataView(block.buffer, block.byteOffset).setBigUint64(64, ndNamespaceIndexChecksum(block, size), true);
}

function fresh(): { s: MemStorage; area: LabelArea } {
  const s = new MemStorage();
  const area = new LabelArea(s);
  area.validate();
  area.init();
  return { s, area };
}

/** The set a freshly probed DIMM would see: slot -> uuid byte 0 and dpa. */
function onMedia(s: MemStorage): string[] {
  const a = new LabelArea(s);
  a.validate();
  return a.labels().map((l) => `${l.slot}:${l.uuid[0]}:${l.dpa}`);
}

describe('nd_fletcher64 (core.c)', () => {
  it('sums 32-bit little-endian words: lo = running sum, hi = sum of sums', () => {
    // words 1, 2, 3: lo 1, 3, 6; hi 1, 4, 10 -> 0x0000000a_00000006
    const buf = Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    expect(ndFletcher64(buf)).toBe(0xa_0000_0006n);
    // bytes are little-endian: 0x04030201
    expect(ndFletcher64(Uint8Array.from([1, 2, 3, 4]))).toBe(0x04030201_04030201n);
  });

  it('wraps both halves at 32 bits', () => {
    // lo: 0xffffffff, then 0x1fffffffe -> 0xfffffffe; hi: 0xffffffff + 0xfffffffe = 0x1fffffffd -> 0xfffffffd
    const buf = new Uint8Array(8).fill(0xff);
    expect(ndFletcher64(buf)).toBe(0xfffffffd_fffffffen);
  });

  it('reads len/4 words only and ignores a trailing partial word; le=false is the same on x86', () => {
    const buf = Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    expect(ndFletcher64(buf, 8)).toBe(0x4_0000_0003n);
    expect(ndFletcher64(buf, 11)).toBe(0x4_0000_0003n);
    expect(ndFletcher64(buf, 12, false)).toBe(ndFletcher64(buf, 12, true));
    expect(ndFletcher64(new Uint8Array(0))).toBe(0n);
  });
});

describe('sizes and sequence numbers (label.h, label.c, nd.h)', () => {
  it('sizes the index and the slot count from the config size as v4.12 does', () => {
    expect(nvdimmNumLabelSlots(SZ_128K)).toBe(1016);
    expect(sizeofNamespaceIndex(SZ_128K)).toBe(256);
    expect(ND_LABEL_MIN_SIZE).toBe(66048);
    expect(sizeofNamespaceIndex(66048)).toBe(256);
    expect(sizeofNamespaceIndex(66047)).toBe(0);
    // 262144 / 129 = 2032 slots; 2032 / 512 = 3 -> 3 * 256
    expect(sizeofNamespaceIndex(256 * 1024)).toBe(768);
    expect(sizeofNamespaceIndex(1024 * 1024)).toBe(3840);
  });

  it('nd_inc_seq cycles 1 -> 2 -> 3 -> 1 and keeps 0', () => {
    expect([1, 2, 3, 0].map(ndIncSeq)).toEqual([2, 3, 1, 0]);
    expect(ndIncSeq(5)).toBe(2);
  });

  it('best_seq picks the newer of two in cycle order, b on a tie, never 0', () => {
    expect(bestSeq(1, 2)).toBe(2);
    expect(bestSeq(2, 1)).toBe(2);
    expect(bestSeq(2, 3)).toBe(3);
    expect(bestSeq(3, 1)).toBe(1);
    expect(bestSeq(1, 3)).toBe(1);
    expect(bestSeq(0, 2)).toBe(2);
    expect(bestSeq(2, 0)).toBe(2);
    expect(bestSeq(3, 3)).toBe(3);
  });

  it('nd_label_next_nsindex', () => {
    expect([-1, 0, 1].map(ndLabelNextNsindex)).toEqual([-1, 1, 0]);
  });
});

describe('struct nd_namespace_index layout', () => {
  it('puts every field at its C offset, little-endian', () => {
    const free = Uint8Array.from({ length: 184 }, (_, i) => i);
    const block = encodeNamespaceIndex(
      {
        sig: NSINDEX_SIGNATURE,
        flags: 0x030201,
        labelsize: 0x04,
        seq: 0x0a0b0c0d,
        myoff: 0x1122334455,
        mysize: 0x100,
        otheroff: 0x200,
        labeloff: 0x300,
        nslot: 0x12345678,
        major: 0xabcd,
        minor: 0x1234,
        free,
      },
      256,
    );
    expect(block.length).toBe(256);
    expect(new TextDecoder().decode(block.subarray(0, 16))).toBe('NAMESPACE_INDEX\0');
    expect([...block.subarray(16, 20)]).toEqual([1, 2, 3, 4]);
    expect(u32(block, 20)).toBe(0x0a0b0c0d);
    expect(u64(block, 24)).toBe(0x1122334455n);
    expect(u64(block, 32)).toBe(0x100n);
    expect(u64(block, 40)).toBe(0x200n);
    expect(u64(block, 48)).toBe(0x300n);
    expect(u32(block, 56)).toBe(0x12345678);
    expect(u16(block, 60)).toBe(0xabcd);
    expect(u16(block, 62)).toBe(0x1234);
    expect(block[72]).toBe(0);
    expect(block[73]).toBe(1);
    expect(block[255]).toBe(183);
    const zeroed = block.slice();
    zeroed.fill(0, 64, 72);
    expect(u64(block, 64)).toBe(ndFletcher64(zeroed, 256, true));
    expect(ND_NAMESPACE_INDEX_OFFSETS).toMatchObject({ seq: 20, checksum: 64, free: 72 });

    const back = decodeNamespaceIndex(block);
    expect(back).toMatchObject({
      flags: 0x030201,
      labelsize: 4,
      seq: 0x0a0b0c0d,
      myoff: 0x1122334455,
      nslot: 0x12345678,
    });
    expect(back.checksum).toBe(u64(block, 64));
    expect(back.free.length).toBe(184);
  });

  it('decodes a u64 beyond 2^53 as Infinity and refuses to encode one', () => {
    const block = new Uint8Array(256);
    new DataView(block.buffer).setBigUint64(24, 1n << 60n, true);
    expect(decodeNamespaceIndex(block).myoff).toBe(Number.POSITIVE_INFINITY);
    const idx = { ...decodeNamespaceIndex(block), sig: NSINDEX_SIGNATURE };
    expect(() => encodeNamespaceIndex(idx, 256)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('struct nd_namespace_label v1.1 layout', () => {
  it('is 128 bytes with every field at its C offset', () => {
    const l: NdNamespaceLabel = {
      ...label(3),
      slot: 0x01020304,
      lbasize: 512,
      rawsize: 0x2000000,
      dpa: 0x7000,
    };
    const buf = encodeNamespaceLabel(l);
    expect(buf.length).toBe(SIZEOF_ND_NAMESPACE_LABEL);
    expect([...buf.subarray(0, 16)]).toEqual([...uuid(3)]);
    expect(new TextDecoder().decode(buf.subarray(16, 19))).toBe('ns3');
    expect(buf[19]).toBe(0);
    expect(u32(buf, 80)).toBe(NSLABEL_FLAG_UPDATING);
    expect(u16(buf, 84)).toBe(2);
    expect(u16(buf, 86)).toBe(1);
    expect(u64(buf, 88)).toBe(0x8000_0000_0000_0004n);
    expect(u64(buf, 96)).toBe(512n);
    expect(u64(buf, 104)).toBe(0x7000n);
    expect(u64(buf, 112)).toBe(0x2000000n);
    expect(u32(buf, 120)).toBe(0x01020304);
    expect(u32(buf, 124)).toBe(0);
    expect(ND_NAMESPACE_LABEL_OFFSETS).toMatchObject({ dpa: 104, rawsize: 112, slot: 120 });
    expect(decodeNamespaceLabel(buf)).toEqual(l);
  });

  it('takes a name of up to 64 bytes', () => {
    const name64 = 'n'.repeat(64);
    expect(decodeNamespaceLabel(encodeNamespaceLabel({ ...label(1), name: name64, slot: 0 })).name).toBe(
      name64,
    );
    expect(() => encodeNamespaceLabel({ ...label(1), name: 'n'.repeat(65), slot: 0 })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });

  it('slot_valid wants the slot it sits in and 4K-aligned dpa and rawsize', () => {
    const l = { ...label(1), slot: 7 };
    expect(slotValid(l, 7)).toBe(true);
    expect(slotValid(l, 6)).toBe(false);
    expect(slotValid({ ...l, dpa: 0x1800 }, 7)).toBe(false);
    expect(slotValid({ ...l, rawsize: 0x1000 + 512 }, 7)).toBe(false);
    expect(slotValid({ ...l, dpa: Number.POSITIVE_INFINITY }, 7)).toBe(false);
  });

  it('nd_label_gen_id', () => {
    const u = Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ndLabelGenId(u, 0)).toBe('pmem-12345678-9abc-def0-0102-030405060708');
    expect(ndLabelGenId(u, NSLABEL_FLAG_LOCAL)).toBe('blk-12345678-9abc-def0-0102-030405060708');
  });
});

describe('free bitmap', () => {
  it('allocates the lowest free slot, frees, counts', () => {
    const free = Uint8Array.from([0b1111_0100, 0xff]);
    expect(ndLabelNfree(free, 10)).toBe(7);
    expect(ndLabelActiveSlots(free, 10)).toEqual([0, 1, 3]);
    expect(ndLabelAllocSlot(free, 10)).toBe(2);
    expect(free[0]).toBe(0b1111_0000);
    expect(ndLabelFreeSlot(free, 10, 1)).toBe(true);
    expect(ndLabelFreeSlot(free, 10, 1)).toBe(false);
    expect(ndLabelFreeSlot(free, 10, 10)).toBe(false);
    expect(ndLabelActiveSlots(free, 10)).toEqual([0, 2, 3]);
    const full = new Uint8Array(2);
    expect(ndLabelAllocSlot(full, 16)).toBe(-1);
  });

  it('nd_label_copy copies one index block', () => {
    const src = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const dst = new Uint8Array(300);
    ndLabelCopy(SZ_128K, dst, src);
    expect([...dst.subarray(0, 256)]).toEqual([...src.subarray(0, 256)]);
    expect(dst[256]).toBe(0);
    ndLabelCopy(SZ_128K, null, src);
  });
});

describe('LabelArea: init and validate', () => {
  it('refuses a label area below ND_LABEL_MIN_SIZE', () => {
    expect(() => new LabelArea(new MemStorage(66047))).toThrow(expect.objectContaining({ code: 'ENXIO' }));
    expect(() => new LabelArea(new MemStorage(66048))).not.toThrow();
  });

  it('finds no index in a blank area, with a signature reason per block', () => {
    const msgs: string[] = [];
    const area = new LabelArea(new MemStorage(), { dbg: (m) => msgs.push(m) });
    const v = area.validate();
    expect(v.index).toBe(-1);
    expect(v.blocks).toEqual([
      { valid: false, errno: 'ENODEV', reason: 'nd_label_validate: nsindex0 signature invalid' },
      { valid: false, errno: 'ENODEV', reason: 'nd_label_validate: nsindex1 signature invalid' },
    ]);
    expect(v.reasons).toEqual(msgs);
    expect(area.labels()).toEqual([]);
    expect(area.freeSlots()).toBe(1016);
  });

  it('init_labels writes index 0 with seq 3 and index 1 with seq 2, all 1016 slots free', () => {
    const s = new MemStorage();
    const area = new LabelArea(s);
    area.validate();
    expect(area.init()).toBe(true);
    expect(s.writes).toEqual([
      { offset: 0, length: 256 },
      { offset: 256, length: 256 },
    ]);
    for (const i of [0, 1]) {
      const b = s.bytes.subarray(i * 256, i * 256 + 256);
      expect(new TextDecoder().decode(b.subarray(0, 16))).toBe(NSINDEX_SIGNATURE);
      expect(u32(b, 16)).toBe(0);
      expect(u32(b, 20)).toBe(3 - i);
      expect(u64(b, 24)).toBe(BigInt(i * 256));
      expect(u64(b, 32)).toBe(256n);
      expect(u64(b, 40)).toBe(BigInt((1 - i) * 256));
      expect(u64(b, 48)).toBe(512n);
      expect(u32(b, 56)).toBe(1016);
      expect(u16(b, 60)).toBe(1);
      expect(u16(b, 62)).toBe(1);
      // 1016 slots: 127 bytes of 0xff; the 8 bits up to ALIGN(1016, 64) = 1024 are clear
      expect(b.subarray(72, 199).every((x) => x === 0xff)).toBe(true);
      expect(b[199]).toBe(0);
      expect(b.subarray(199).every((x) => x === 0)).toBe(true);
      const z = b.slice();
      z.fill(0, 64, 72);
      expect(u64(b, 64)).toBe(ndFletcher64(z, 256, true));
    }
    expect(area.current).toBe(0);
    expect(area.next).toBe(1);
    expect(area.freeSlots()).toBe(1016);
    const again = new LabelArea(s);
    expect(again.validate()).toMatchObject({
      index: 0,
      blocks: [
        { valid: true, seq: 3 },
        { valid: true, seq: 2 },
      ],
    });
    expect(again.init()).toBe(false);
    expect(s.writes.length).toBe(2);
  });

  it('picks the newer of two valid blocks in 1 < 2 < 3 < 1 order, index 1 on a tie', () => {
    const s = new MemStorage();
    new LabelArea(s).init();
    const cases: Array<[number, number, number]> = [
      [1, 2, 1],
      [2, 1, 0],
      [2, 3, 1],
      [3, 2, 0],
      [3, 1, 1],
      [1, 3, 0],
      [1, 1, 1],
      [2, 2, 1],
      [3, 3, 1],
      [5, 2, 1], // seq is masked with NSINDEX_SEQ_MASK: 5 -> 1
    ];
    for (const [a, b, want] of cases) {
      new DataView(s.bytes.buffer).setUint32(20, a, true);
      new DataView(s.bytes.buffer).setUint32(256 + 20, b, true);
      rechecksum(s.bytes, 0);
      rechecksum(s.bytes, 256);
      expect([a, b, ndLabelValidate(s.bytes).index]).toEqual([a, b, want]);
    }
  });

  describe('one bad block leaves the other current', () => {
    type Row = [string, (b: Uint8Array, v: DataView) => void, 'ENODEV' | 'EINVAL', string];
    /** Bytes changed without fixing the checksum. */
    const raw: Row[] = [
      ['signature', (b) => b.set([0x41], 3), 'ENODEV', 'nsindex0 signature invalid'],
      ['checksum', (b) => b.set([b[100]! ^ 1], 100), 'ENODEV', 'nsindex0 checksum invalid'],
    ];
    /** Fields changed, checksum fixed. */
    const fields: Row[] = [
      ['seq 4', (_b, v) => v.setUint32(20, 4, true), 'EINVAL', 'nsindex0 sequence: 0x4 invalid'],
      ['seq 0', (_b, v) => v.setUint32(20, 0, true), 'EINVAL', 'nsindex0 sequence: 0 invalid'],
      ['myoff', (_b, v) => v.setBigUint64(24, 256n, true), 'EINVAL', 'nsindex0 myoff: 0x100 invalid'],
      ['otheroff', (_b, v) => v.setBigUint64(40, 0n, true), 'EINVAL', 'nsindex0 otheroff: 0 invalid'],
      ['mysize big', (_b, v) => v.setBigUint64(32, 257n, true), 'EINVAL', 'nsindex0 mysize: 0x101 invalid'],
      ['mysize small', (_b, v) => v.setBigUint64(32, 71n, true), 'EINVAL', 'nsindex0 mysize: 0x47 invalid'],
      [
        'nslot',
        (_b, v) => v.setUint32(56, 1021, true),
        'EINVAL',
        'nsindex0 nslot: 1021 invalid, config_size: 0x20000',
      ],
      [
        'huge myoff',
        (_b, v) => v.setBigUint64(24, 1n << 63n, true),
        'EINVAL',
        'nsindex0 myoff: 0x8000000000000000 invalid',
      ],
    ];
    const rows = [...raw.map((r) => [r, false] as const), ...fields.map((r) => [r, true] as const)];
    for (const [[name, mutate, errno, reason], fix] of rows) {
      it(name, () => {
        const { s } = fresh();
        const b = s.bytes.subarray(0, 256);
        mutate(b, new DataView(b.buffer, b.byteOffset));
        if (fix) rechecksum(s.bytes, 0);
        const area = new LabelArea(s);
        const v = area.validate();
        expect(v.blocks[0]).toEqual({ valid: false, errno, reason: `nd_label_validate: ${reason}` });
        expect(v.blocks[1]).toEqual({ valid: true, seq: 2 });
        expect(v.index).toBe(1);
        expect(v.reasons).toEqual([`nd_label_validate: ${reason}`]);
      });
    }

    it('nslot 1020 still fits (1020 * 128 + 512 <= 128K) and labeloff is not checked, as in v4.12', () => {
      const { s } = fresh();
      const v = new DataView(s.bytes.buffer);
      v.setUint32(56, 1020, true);
      v.setBigUint64(48, 12345n, true);
      v.setUint16(60, 7, true);
      rechecksum(s.bytes, 0);
      expect(ndLabelValidate(s.bytes).index).toBe(0);
    });
  });
});

describe('LabelArea: updates', () => {
  it('writes a label into the lowest free slot, then the next index with the next seq', () => {
    const { s, area } = fresh();
    s.writes = [];
    expect(area.update({ add: [label(1)] })).toEqual([0]);
    expect(s.writes).toEqual([
      { offset: 512, length: 128 },
      { offset: 256, length: 256 },
    ]);
    expect(area.current).toBe(1);
    expect(area.next).toBe(0);
    expect(u32(s.bytes, 256 + 20)).toBe(1); // nd_inc_seq(3)
    expect(s.bytes[256 + 72]! & 1).toBe(0);
    expect(u64(s.bytes, 512 + 104)).toBe(0x100000n);
    expect(area.labels()).toEqual([{ ...label(1), slot: 0 }]);
    expect(area.freeSlots()).toBe(1015);
    expect(area.activeCount()).toBe(1);

    // replace it: the victim's slot is not reused in the same update
    expect(area.update({ add: [label(2)], remove: [0] })).toEqual([1]);
    expect(area.current).toBe(0);
    expect(u32(s.bytes, 20)).toBe(2);
    expect(area.labels().map((l) => l.slot)).toEqual([1]);
    expect(onMedia(s)).toEqual([`1:${uuid(2)[0]}:${0x200000}`]);

    // delete (namespace destroy)
    expect(area.update({ remove: [1] })).toEqual([]);
    expect(area.current).toBe(1);
    expect(u32(s.bytes, 256 + 20)).toBe(3);
    expect(area.labels()).toEqual([]);
    expect(onMedia(s)).toEqual([]);
    expect(area.freeSlots()).toBe(1016);
  });

  it('keeps the previous set when the index write fails after the label slot was written', () => {
    const { s, area } = fresh();
    area.update({ add: [label(1), label(2)] });
    const before = onMedia(s);
    s.failAt = { n: 1, partial: 0 };
    expect(() => area.update({ add: [label(3)], remove: [0] })).toThrow(
      expect.objectContaining({ code: 'EIO' }),
    );
    expect(u64(s.bytes, 512 + 2 * 128 + 104)).toBe(0x300000n); // the label itself landed in slot 2
    expect(onMedia(s)).toEqual(before);
    expect(area.labels().map((l) => l.slot)).toEqual([0, 1]);
    expect(area.current).toBe(1);
    expect(area.update({ add: [label(4)] })).toEqual([2]);
    expect(onMedia(s)).toEqual([...before, `2:${uuid(4)[0]}:${0x400000}`]);
  });

  it('keeps the previous set after a partial index write', () => {
    // The new block differs from the stale one it overwrites in seq (20), checksum (64..71) and the first
    // bitmap byte (72): a write torn before byte 73 leaves a bad checksum, a longer one is the whole block.
    const after = [`2:${uuid(3)[0]}:${0x300000}`];
    for (const partial of [0, 1, 16, 20, 21, 24, 64, 71, 72, 73, 100, 255]) {
      const { s, area } = fresh();
      area.update({ add: [label(1)] });
      area.update({ add: [label(2)] });
      const before = onMedia(s);
      s.failAt = { n: 1, partial };
      expect(() => area.update({ add: [label(3)], remove: [0, 1] })).toThrow(
        expect.objectContaining({ code: 'EIO' }),
      );
      expect([partial, onMedia(s)]).toEqual([partial, partial < 73 ? before : after]);
      expect(area.labels().map((l) => `${l.slot}:${l.uuid[0]}:${l.dpa}`)).toEqual(onMedia(s));
    }
  });

  it('keeps the previous set when the label write itself fails', () => {
    const { s, area } = fresh();
    area.update({ add: [label(1)] });
    s.failAt = { n: 0, partial: 64 };
    expect(() => area.update({ add: [label(2)] })).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(onMedia(s)).toEqual([`0:${uuid(1)[0]}:${0x100000}`]);
  });

  it('takes the media word when a failed write did land', () => {
    const { s, area } = fresh();
    s.failAt = { n: 1, partial: 256 };
    expect(() => area.update({ add: [label(1)] })).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(onMedia(s)).toEqual([`0:${uuid(1)[0]}:${0x100000}`]);
    expect(area.labels().map((l) => l.slot)).toEqual([0]);
    expect(area.current).toBe(1);
  });

  it('ENXIO without a current index (a remove-only update is a no-op) and when slots run out', () => {
    const s = new MemStorage();
    const area = new LabelArea(s);
    area.validate();
    expect(() => area.update({ add: [label(1)] })).toThrow(expect.objectContaining({ code: 'ENXIO' }));
    expect(area.update({ remove: [] })).toEqual([]);
    expect(s.writes).toEqual([]);

    area.init();
    const many = Array.from({ length: 1016 }, (_, i) => label(i, i * 4096, 4096));
    expect(area.update({ add: many })).toEqual(Array.from({ length: 1016 }, (_, i) => i));
    expect(area.freeSlots()).toBe(0);
    const n = s.writes.length;
    expect(() => area.update({ add: [label(2000)], remove: [5] })).toThrow(
      expect.objectContaining({ code: 'ENXIO' }),
    );
    expect(s.writes.length).toBe(n);
    expect(new LabelArea(s).validate().index).toBe(area.current);
    expect(onMedia(s).length).toBe(1016);
  });

  it('EINVAL, writing nothing, for a removed slot that is not active or a bad label', () => {
    const { s, area } = fresh();
    area.update({ add: [label(1)] });
    const n = s.writes.length;
    for (const remove of [[1], [0, 0], [-1], [5000], [0.5]])
      expect(() => area.update({ add: [label(2)], remove })).toThrow(
        expect.objectContaining({ code: 'EINVAL' }),
      );
    expect(() => area.update({ add: [{ ...label(2), uuid: new Uint8Array(3) }] })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => area.update({ add: [{ ...label(2), dpa: 2 ** 53 }] })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(s.writes.length).toBe(n);
  });

  it('skips active slots whose label does not say that slot or is not 4K aligned', () => {
    const { s, area } = fresh();
    area.update({ add: [label(1), label(2), label(3)] });
    const v = new DataView(s.bytes.buffer);
    v.setUint32(512 + 128 + 120, 9, true); // slot 1 claims to be slot 9
    v.setBigUint64(512 + 256 + 104, 0x300200n, true); // slot 2: dpa not 4K aligned
    const msgs: string[] = [];
    const again = new LabelArea(s, { dbg: (m) => msgs.push(m) });
    again.validate();
    expect(again.labels().map((l) => l.slot)).toEqual([0]);
    expect(msgs).toEqual([
      'nd_label_active_count: slot1 invalid slot: 9 dpa: 200000 size: 100000',
      'nd_label_active_count: slot2 invalid slot: 2 dpa: 300200 size: 100000',
    ]);
    // still in use for allocation purposes
    expect(again.freeSlots()).toBe(1013);
  });

  it('init(true) rewrites a valid area from scratch', () => {
    const { s, area } = fresh();
    area.update({ add: [label(1)] });
    expect(area.init(true)).toBe(true);
    expect(area.labels()).toEqual([]);
    expect(onMedia(s)).toEqual([]);
    expect(area.current).toBe(0);
  });
});

describe('nd_label_reserve_dpa (found by the label-area fuzz)', () => {
  const range = (dpa: number, rawsize: number) => ({ dpa, rawsize });
  const busy = expect.objectContaining({ code: 'EBUSY', syscall: 'nd_label_reserve_dpa' });

  it('reserves disjoint ranges, touching ones included, in any order', () => {
    expect(() => ndLabelReserveDpa([])).not.toThrow();
    expect(() =>
      ndLabelReserveDpa([range(8 * MiB, MiB), range(0, 4 * MiB), range(4 * MiB, 4 * MiB)]),
    ).not.toThrow();
  });

  it('EBUSY when two labels overlap, even by one page or with the same uuid', () => {
    expect(() => ndLabelReserveDpa([range(0, 4 * MiB), range(4 * MiB - 4096, 4096)])).toThrow(busy);
    expect(() => ndLabelReserveDpa([range(2 * MiB, MiB), range(0, 8 * MiB)])).toThrow(busy);
    expect(() => ndLabelReserveDpa([range(MiB, MiB), range(MiB, MiB)])).toThrow(busy);
  });

  it('rawsize 0 wraps below its dpa (EBUSY), and at dpa 0 claims the whole DPA space', () => {
    expect(() => ndLabelReserveDpa([range(4096, 0)])).toThrow(busy);
    expect(() => ndLabelReserveDpa([range(0, 0)])).not.toThrow();
    expect(() => ndLabelReserveDpa([range(0, 0), range(2 ** 52, 4096)])).toThrow(busy);
  });

  it('LabelArea.reserveDpa() counts labels beyond 2^53 that labels() leaves out', () => {
    const { s, area } = fresh();
    area.update({ add: [label(1, 0, 8 * MiB), label(2, 64 * MiB, MiB)] });
    expect(() => area.reserveDpa()).not.toThrow();
    // slot 1 now claims [2^60, 2^61): slot_valid() takes it, and it covers nobody
    const v = new DataView(s.bytes.buffer);
    v.setBigUint64(512 + 128 + 104, 1n << 60n, true);
    v.setBigUint64(512 + 128 + 112, 1n << 60n, true);
    const again = new LabelArea(s);
    again.validate();
    expect(again.labels().map((l) => l.slot)).toEqual([0]);
    expect(() => again.reserveDpa()).not.toThrow();
    // now it spans [0, 2^60) and covers slot 0's range
    v.setBigUint64(512 + 128 + 104, 0n, true);
    again.validate();
    expect(() => again.reserveDpa()).toThrow(busy);
    expect(() => new LabelArea(new MemStorage()).reserveDpa()).not.toThrow();
  });

  it('fails the DIMM probe with EBUSY when the current labels overlap, as nvdimm_probe() does', async () => {
    const nv = new TestNvdimms();
    const data = nv.labels.get(0x1)!;
    const area = new LabelArea({
      size: data.length,
      read: (off, len) => data.slice(off, off + len),
      write: (off, bytes) => data.set(bytes, off),
    });
    area.validate();
    area.init();
    area.update({ add: [label(1, 512 * MiB, 8 * MiB), label(2, 516 * MiB, 8 * MiB)] });
    await using s = await bootNd(nv);
    const k = s.kernel;
    expect(driverOf(k, 'nmem0')).toBe('nvdimm');
    expect(driverOf(k, 'nmem1')).toBeNull();
    expect(k.dmesg().join('\n')).toContain('nvdimm: probe of nmem1 failed with error -16');
  });
});
