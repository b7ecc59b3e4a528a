import { ND_CMD_GET_CONFIG_DATA, ND_CMD_GET_CONFIG_SIZE, ND_CMD_SET_CONFIG_DATA } from '@daxsim/nvdimm-sim';
import { describe, expect, it } from 'vitest';
import {
  type LabelStore,
  MemoryLabelStore,
  NFIT_TEST_ARS_RECORDS,
  NfitTestFirmware,
  nfitTest0Platform,
  nfitTest1Platform,
  sparsePlatform,
} from '../src/index.js';
import { errno, GiB, KiB, MiB } from './helpers.js';

const BASE = 64 * GiB;
const SPA1 = BASE + GiB;

function firmware0(options: ConstructorParameters<typeof NfitTestFirmware>[1] = {}): NfitTestFirmware {
  return new NfitTestFirmware(nfitTest0Platform(BASE), options);
}

/** Polls ARS status until it is no longer busy; returns the result and how many polls said busy. */
function drain(fw: NfitTestFirmware): { busy: number; status: ReturnType<NfitTestFirmware['arsStatus']> } {
  for (let busy = 0; ; busy++) {
    const status = fw.arsStatus();
    if (!status.busy) return { busy, status };
  }
}

describe('label storage (ND_CMD_*_CONFIG_*)', () => {
  it('reports the label area size and a 4 KiB transfer limit', () => {
    const fw = firmware0();
    for (const h of [0, 1, 0x100, 0x101])
      expect(fw.getConfigSize(h)).toEqual({ configSize: 128 * KiB, maxXfer: 4096 });
  });

  it('round-trips data per DIMM', () => {
    const fw = firmware0();
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    fw.setConfigData(0x100, 4096, data);
    expect(fw.getConfigData(0x100, 4096, 300)).toEqual(data);
    expect(fw.getConfigData(0x101, 4096, 300)).toEqual(new Uint8Array(300));
    expect(fw.getConfigData(0x100, 4096 + 10, 5)).toEqual(data.subarray(10, 15));
  });

  it('cuts transfers at the end of the area and refuses offsets past it', () => {
    const fw = firmware0();
    fw.setConfigData(1, 128 * KiB - 4, Uint8Array.of(1, 2, 3, 4, 5, 6));
    expect(fw.getConfigData(1, 128 * KiB - 4, 100)).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(() => fw.getConfigData(1, 128 * KiB, 1)).toThrow(errno('EINVAL'));
    expect(() => fw.setConfigData(1, 128 * KiB, Uint8Array.of(1))).toThrow(errno('EINVAL'));
    expect(() => fw.getConfigData(1, -1, 1)).toThrow(errno('EINVAL'));
  });

  it('answers ENXIO for an unknown DIMM and ENOTTY for one without label DSMs', () => {
    expect(() => firmware0().getConfigSize(0x1000)).toThrow(errno('ENXIO'));
    const fw1 = new NfitTestFirmware(nfitTest1Platform(BASE));
    expect(() => fw1.getConfigSize(0)).toThrow(errno('ENOTTY'));
    expect(() => fw1.getConfigData(0, 0, 16)).toThrow(errno('ENOTTY'));
    expect(() => fw1.setConfigData(0, 0, Uint8Array.of(1))).toThrow(errno('ENOTTY'));
    expect(fw1.labelStore(0)).toBeNull();
  });

  it('uses the label stores it is given', () => {
    const writes: [number, number][] = [];
    const backing = new MemoryLabelStore(128 * KiB);
    const store: LabelStore = {
      size: backing.size,
      read: (off, len) => backing.read(off, len),
      write: (off, data) => {
        writes.push([off, data.length]);
        backing.write(off, data);
      },
    };
    const fw = firmware0({ labels: new Map([[0x101, store]]) });
    fw.setConfigData(0x101, 256, new Uint8Array(128).fill(9));
    expect(writes).toEqual([[256, 128]]);
    expect(backing.read(256, 2)).toEqual(Uint8Array.of(9, 9));
    expect(fw.labelStore(0x101)).toBe(store);
    expect(() => firmware0({ labels: new Map([[0, new MemoryLabelStore(4096)]]) })).toThrow(errno('EINVAL'));
  });

  it('MemoryLabelStore starts with its initial contents', () => {
    const s = new MemoryLabelStore(16, new TextEncoder().encode('label3\0'));
    expect(new TextDecoder().decode(s.read(0, 6))).toBe('label3');
    expect(s.read(6, 4)).toEqual(new Uint8Array(4));
  });
});

describe('address range scrub', () => {
  it('reports the 256-byte clear unit and room for 170 records', () => {
    expect(NFIT_TEST_ARS_RECORDS).toBe(170);
    expect(firmware0().arsCap(BASE, 32 * MiB)).toEqual({ maxArsOut: 48 + 170 * 24, clearErrUnit: 256 });
  });

  it('posts a scrub of the first range at setup, busy for one poll', () => {
    const fw = firmware0();
    expect(fw.arsStatus()).toEqual({ busy: true, address: 0, length: 0, records: [] });
    expect(fw.arsStatus()).toEqual({ busy: false, address: BASE, length: 32 * MiB, records: [] });
    expect(fw.arsStatus().busy).toBe(false);
  });

  it('is busy for the configured number of polls after a start, and refuses a start meanwhile', () => {
    const fw = firmware0({ arsBusyPolls: 3 });
    expect(drain(fw).busy).toBe(3);
    fw.arsStart(SPA1, 64 * MiB);
    expect(fw.arsStatus().busy).toBe(true);
    expect(() => fw.arsStart(BASE, 32 * MiB)).toThrow(errno('EBUSY'));
    expect(fw.arsStatus().busy).toBe(true);
    expect(fw.arsStatus().busy).toBe(true);
    expect(fw.arsStatus()).toEqual({ busy: false, address: SPA1, length: 64 * MiB, records: [] });
    fw.arsStart(BASE, 32 * MiB);
    expect(drain(fw)).toEqual({
      busy: 3,
      status: { busy: false, address: BASE, length: 32 * MiB, records: [] },
    });
  });

  it('with zero busy polls answers at once', () => {
    const fw = firmware0({ arsBusyPolls: 0 });
    expect(fw.arsStatus().busy).toBe(false);
    fw.arsStart(SPA1, 4096);
    fw.arsStart(SPA1, 8192);
    expect(fw.arsStatus()).toMatchObject({ busy: false, address: SPA1, length: 8192 });
    expect(() => firmware0({ arsBusyPolls: -1 })).toThrow(errno('EINVAL'));
  });

  it('reports the injected ranges clipped to the scrubbed range, as of the start', () => {
    const fw = firmware0();
    drain(fw);
    fw.injectError(BASE + 4096, 512);
    fw.injectError(BASE + 32 * MiB - 1024, 4096);
    fw.injectError(BASE - 256, 512);
    fw.injectError(SPA1, 4096);
    fw.arsStart(BASE, 32 * MiB);
    fw.injectError(BASE + 8192, 512);
    expect(drain(fw)).toEqual({
      busy: 1,
      status: {
        busy: false,
        address: BASE,
        length: 32 * MiB,
        records: [
          { handle: 0, address: BASE + 4096, length: 512 },
          { handle: 0, address: BASE + 32 * MiB - 1024, length: 1024 },
          { handle: 0, address: BASE, length: 256 },
        ],
      },
    });
    fw.arsStart(BASE, 32 * MiB);
    expect(drain(fw).status.records).toHaveLength(4);
  });

  it('keeps at most NFIT_TEST_ARS_RECORDS records', () => {
    const fw = firmware0({ arsBusyPolls: 0 });
    for (let i = 0; i < 200; i++) fw.injectError(BASE + i * 4096, 512);
    fw.arsStart(BASE, 32 * MiB);
    const { records } = fw.arsStatus();
    expect(records).toHaveLength(170);
    expect(records[169]).toEqual({ handle: 0, address: BASE + 169 * 4096, length: 512 });
  });

  it('in v4.12 mode reports one 4 KiB error mid-range, whatever is cleared', () => {
    const fw = firmware0({ midpointError: true, arsBusyPolls: 0 });
    expect(fw.arsStatus().records).toEqual([{ handle: 0, address: BASE + 16 * MiB, length: 4096 }]);
    expect(fw.clearError(BASE + 16 * MiB, 4096)).toBe(4096);
    fw.arsStart(SPA1, 64 * MiB);
    expect(fw.arsStatus().records).toEqual([{ handle: 0, address: SPA1 + 32 * MiB, length: 4096 }]);
  });
});

describe('error injection and clearing', () => {
  it('lists injected errors in order; a range injected again at the same start takes the new length', () => {
    const fw = firmware0();
    fw.injectError(BASE + 8192, 4096);
    fw.injectError(BASE, 512);
    fw.injectError(BASE + 8192, 1024);
    expect(fw.injectedErrors()).toEqual([
      { address: BASE + 8192, length: 1024 },
      { address: BASE, length: 512 },
    ]);
    expect(() => fw.injectError(BASE, 0)).toThrow(errno('EINVAL'));
    expect(() => fw.uninjectError(BASE, 0)).toThrow(errno('EINVAL'));
  });

  it('clears in 256-byte units, splitting ranges a clear falls inside', () => {
    const fw = firmware0();
    fw.injectError(BASE, 4096);
    expect(() => fw.clearError(BASE + 128, 256)).toThrow(errno('EINVAL'));
    expect(() => fw.clearError(BASE, 300)).toThrow(errno('EINVAL'));
    expect(fw.injectedErrors()).toEqual([{ address: BASE, length: 4096 }]);
    expect(fw.clearError(BASE + 1024, 512)).toBe(512);
    expect(fw.injectedErrors()).toEqual([
      { address: BASE, length: 1024 },
      { address: BASE + 1536, length: 2560 },
    ]);
    expect(fw.clearError(BASE, 256)).toBe(256);
    expect(fw.clearError(BASE + 3840, 512)).toBe(512);
    expect(fw.injectedErrors()).toEqual([
      { address: BASE + 256, length: 768 },
      { address: BASE + 1536, length: 2304 },
    ]);
    expect(fw.clearError(BASE, 4096)).toBe(4096);
    expect(fw.injectedErrors()).toEqual([]);
  });

  it('uninjects byte ranges', () => {
    const fw = firmware0();
    fw.injectError(BASE, 4096);
    fw.uninjectError(BASE + 100, 100);
    expect(fw.injectedErrors()).toEqual([
      { address: BASE, length: 100 },
      { address: BASE + 200, length: 3896 },
    ]);
  });

  it('calls the poison hooks on inject, uninject and clear', () => {
    const calls: string[] = [];
    const fw = firmware0({
      poison: {
        poison: (a, l) => calls.push(`poison ${a - BASE} ${l}`),
        clearPoison: (a, l) => calls.push(`clear ${a - BASE} ${l}`),
      },
    });
    fw.injectError(BASE + 4096, 512);
    fw.clearError(BASE + 4096, 256);
    fw.uninjectError(BASE + 4352, 256);
    expect(() => fw.clearError(BASE + 1, 256)).toThrow(errno('EINVAL'));
    expect(calls).toEqual(['poison 4096 512', 'clear 4096 256', 'clear 4352 256']);
  });
});

describe('fail_cmd', () => {
  it('fails only the chosen command on the chosen DIMM, with EIO', () => {
    const fw = firmware0();
    fw.failCmd(1, ND_CMD_GET_CONFIG_DATA);
    expect(fw.failCmdFlags(1)).toBe(1 << 5);
    expect(() => fw.getConfigData(1, 0, 16)).toThrow(errno('EIO'));
    expect(fw.getConfigSize(1).configSize).toBe(128 * KiB);
    expect(fw.getConfigData(0, 0, 4)).toEqual(new TextEncoder().encode('\0\0\0\0'));
    expect(fw.getConfigData(0x100, 0, 4)).toHaveLength(4);
    fw.failCmd(1, ND_CMD_GET_CONFIG_DATA, false);
    expect(fw.getConfigData(1, 0, 16)).toHaveLength(16);
    expect(fw.failCmdFlags(1)).toBe(0);
  });

  it('runs a failing command before reporting the failure, as override_return_code() does', () => {
    const fw = firmware0();
    fw.failCmd(0x101, ND_CMD_SET_CONFIG_DATA);
    expect(() => fw.setConfigData(0x101, 0, Uint8Array.of(7))).toThrow(errno('EIO'));
    expect(fw.getConfigData(0x101, 0, 1)).toEqual(Uint8Array.of(7));
    expect(() => fw.setConfigData(0x101, 128 * KiB, Uint8Array.of(7))).toThrow(errno('EIO'));
  });

  it('takes a whole mask and a replacement error code', () => {
    const fw = firmware0();
    fw.setFailCmdFlags(0, (1 << ND_CMD_GET_CONFIG_SIZE) | (1 << ND_CMD_GET_CONFIG_DATA));
    fw.setFailCmdCode(0, 'ENXIO');
    expect(() => fw.getConfigSize(0)).toThrow(errno('ENXIO'));
    expect(() => fw.getConfigData(0, 0, 1)).toThrow(errno('ENXIO'));
    fw.setConfigData(0, 0, Uint8Array.of(1));
    fw.setFailCmdCode(0, null);
    expect(() => fw.getConfigSize(0)).toThrow(errno('EIO'));
  });

  it('refuses unknown DIMMs and command numbers', () => {
    const fw = firmware0();
    expect(() => fw.failCmd(0x1000, ND_CMD_GET_CONFIG_SIZE)).toThrow(errno('ENXIO'));
    expect(() => fw.failCmd(0, 32)).toThrow(errno('EINVAL'));
    expect(() => fw.setFailCmdFlags(0, -1)).toThrow(errno('EINVAL'));
  });
});

it('a sparse 1 TiB platform scrubs its whole range', () => {
  const fw = new NfitTestFirmware(sparsePlatform({ size: 1024 * GiB, base: 1024 * GiB }), {
    arsBusyPolls: 0,
  });
  fw.injectError(1024 * GiB + 900 * GiB, 4096);
  fw.arsStart(1024 * GiB, 1024 * GiB);
  expect(fw.arsStatus().records).toEqual([{ handle: 0, address: 1924 * GiB, length: 4096 }]);
  expect(fw.clearError(1924 * GiB, 4096)).toBe(4096);
  expect(fw.injectedErrors()).toEqual([]);
});
