/**
 * tools/testing/nvdimm/test/nfit.c, the firmware half: nfit_test_ctl() and the nfit_test_cmd_* handlers behind
 * it (label storage, address range scrub, clear error), the ARS error-injection list of newer kernels
 * (NFIT_CMD_ARS_INJECT_SET/CLEAR/GET) and the per-DIMM fail_cmd / fail_cmd_code knobs of the test_dimmN
 * devices.
 */
import { type ErrnoCode, kerr } from '@daxsim/kernel';
import type { ArsRecord, ArsStatus, NfitDimm, NfitFirmware, NfitPlatform } from '@daxsim/nvdimm-sim';
import {
  Badrange,
  ND_CMD_GET_CONFIG_DATA,
  ND_CMD_GET_CONFIG_SIZE,
  ND_CMD_SET_CONFIG_DATA,
} from '@daxsim/nvdimm-sim';

/** NFIT_TEST_CLEAR_ERR_UNIT: clear-error granularity and alignment. */
export const NFIT_TEST_CLEAR_ERR_UNIT = 256;
/** nd_cmd_get_config_size.max_xfer nfit_test reports. */
export const NFIT_TEST_MAX_XFER = 4096;
/** sizeof(struct nd_cmd_ars_status) without records. */
export const ND_CMD_ARS_STATUS_SIZE = 48;
/** sizeof(struct nd_ars_record). */
export const ND_ARS_RECORD_SIZE = 24;
/** Records an ARS status holds: as many as fit in 4 KiB (nfit_test_cmd_ars_cap, v4.15+). */
export const NFIT_TEST_ARS_RECORDS = Math.floor(4096 / ND_ARS_RECORD_SIZE);

/** Label storage of one DIMM (the config data area behind ND_CMD_{GET,SET}_CONFIG_DATA). */
export interface LabelStore {
  /** Bytes in the area. */
  readonly size: number;
  /** `len` bytes from `off` (off + len <= size). */
  read(off: number, len: number): Uint8Array;
  /** Stores `data` at `off` (off + data.length <= size). */
  write(off: number, data: Uint8Array): void;
}

/** A label area in host memory, zero-filled or starting with `init` (nfit_test's vmalloc'd label buffer). */
export class MemoryLabelStore implements LabelStore {
  readonly #buf: Uint8Array;

  constructor(size: number, init?: Uint8Array) {
    this.#buf = new Uint8Array(size);
    if (init !== undefined) this.#buf.set(init.subarray(0, size));
  }

  get size(): number {
    return this.#buf.length;
  }

  read(off: number, len: number): Uint8Array {
    return this.#buf.slice(off, off + len);
  }

  write(off: number, data: Uint8Array): void {
    this.#buf.set(data, off);
  }
}

/** Where media poison lives: called when errors are injected and when they are cleared. */
export interface PoisonHooks {
  poison?(addr: number, len: number): void;
  clearPoison?(addr: number, len: number): void;
}

/** One injected error range (nd_error_stat_query_record). */
export interface InjectedError {
  address: number;
  length: number;
}

/**
 * Where the injected-error list is kept across boots (the media's poison survives a reboot): loaded when the
 * firmware starts, saved after every change.
 */
export interface InjectedErrorStore {
  load(): InjectedError[];
  save(errors: InjectedError[]): void;
}

/** Options of NfitTestFirmware. */
export interface NfitTestFirmwareOptions {
  /**
   * Label storage per DIMM handle, for DIMMs with labelSize > 0. A DIMM without one gets a zero-filled
   * MemoryLabelStore of its labelSize. A store's size must equal the DIMM's labelSize.
   */
  labels?: ReadonlyMap<number, LabelStore>;
  /**
   * How many ND_CMD_ARS_STATUS calls answer "busy" after each scrub is posted (default 1). nfit.c keeps a
   * scrub busy until a 1 s deadline; a poll count gives the same protocol without sleeping.
   */
  arsBusyPolls?: number;
  /** Media poison callbacks (kernel.physmem.poison/clearPoison, say). */
  poison?: PoisonHooks;
  /**
   * v4.12 behaviour: every scrub reports one 4 KiB error in the middle of the scrubbed range, whatever was
   * injected, and clearing errors does not stop the next scrub from finding it again. Default false: scrubs
   * report the injected ranges.
   */
  midpointError?: boolean;
  /** Persistent injected-error list; the errors it holds are injected (and poisoned) at construction. */
  injected?: InjectedErrorStore;
}

interface DimmState {
  readonly dimm: NfitDimm;
  readonly labels: LabelStore | null;
  failFlags: number;
  failCode: ErrnoCode | null;
}

interface PostedArs {
  address: number;
  length: number;
  records: ArsRecord[];
}

function checkRange(address: number, length: number, op: string): void {
  if (!Number.isSafeInteger(address) || !Number.isSafeInteger(length) || address < 0 || length < 0)
    throw kerr('EINVAL', op);
}

/**
 * nfit_test_ctl() for one nfit_test instance: answers the nfit driver's _DSM calls for `platform`. DIMM
 * commands on an unknown handle fail ENXIO, label commands on a DIMM without label storage ENOTTY; a DIMM
 * command whose bit is set in that DIMM's fail_cmd mask runs and then reports EIO (or the fail_cmd_code).
 */
export class NfitTestFirmware implements NfitFirmware {
  readonly platform: NfitPlatform;
  readonly #dimms = new Map<number, DimmState>();
  readonly #badrange = new Badrange();
  readonly #busyPolls: number;
  readonly #poison: PoisonHooks;
  readonly #midpoint: boolean;
  readonly #injected: InjectedErrorStore | null;
  #posted: PostedArs = { address: 0, length: 0, records: [] };
  #busyLeft = 0;

  /**
   * nfit_test*_alloc() + setup(): per-DIMM state, and a first scrub posted over the platform's first SPA
   * range, as setup's post_ars_status() does. EINVAL for a label store whose size is not the DIMM's labelSize
   * or a negative busy-poll count.
   */
  constructor(platform: NfitPlatform, options: NfitTestFirmwareOptions = {}) {
    const polls = options.arsBusyPolls ?? 1;
    if (!Number.isSafeInteger(polls) || polls < 0) throw kerr('EINVAL', 'nfit_test: arsBusyPolls');
    for (const dimm of platform.dimms) {
      const given = options.labels?.get(dimm.handle);
      if (given !== undefined && given.size !== dimm.labelSize)
        throw kerr(
          'EINVAL',
          `nfit_test: label store of ${dimm.handle.toString(16)} is not ${dimm.labelSize} bytes`,
        );
      const labels = dimm.labelSize === 0 ? null : (given ?? new MemoryLabelStore(dimm.labelSize));
      this.#dimms.set(dimm.handle, { dimm, labels, failFlags: 0, failCode: null });
    }
    this.platform = platform;
    this.#busyPolls = polls;
    this.#poison = options.poison ?? {};
    this.#midpoint = options.midpointError ?? false;
    this.#injected = options.injected ?? null;
    for (const e of this.#injected?.load() ?? []) {
      checkRange(e.address, e.length, 'nfit_test: injected error store');
      this.#badrange.add(e.address, e.length);
      this.#poison.poison?.(e.address, e.length);
    }
    const first = platform.spas[0];
    if (first !== undefined) this.#postArsStatus(first.base, first.size);
  }

  /** nfit_test_cmd_get_config_size(): the label area size and a 4 KiB transfer limit. */
  getConfigSize(handle: number): { configSize: number; maxXfer: number } {
    return this.#dimmCmd(handle, ND_CMD_GET_CONFIG_SIZE, 'get_config_size', (labels) => ({
      configSize: labels.size,
      maxXfer: NFIT_TEST_MAX_XFER,
    }));
  }

  /** nfit_test_cmd_get_config_data(): EINVAL for an offset at or past the end; a read past it is cut short. */
  getConfigData(handle: number, offset: number, length: number): Uint8Array {
    return this.#dimmCmd(handle, ND_CMD_GET_CONFIG_DATA, 'get_config_data', (labels) => {
      checkRange(offset, length, 'nfit_test: get_config_data');
      if (offset >= labels.size) throw kerr('EINVAL', 'nfit_test: get_config_data');
      return labels.read(offset, Math.min(length, labels.size - offset));
    });
  }

  /** nfit_test_cmd_set_config_data(): EINVAL for an offset at or past the end; a write past it is cut short. */
  setConfigData(handle: number, offset: number, data: Uint8Array): void {
    this.#dimmCmd(handle, ND_CMD_SET_CONFIG_DATA, 'set_config_data', (labels) => {
      checkRange(offset, data.length, 'nfit_test: set_config_data');
      if (offset >= labels.size) throw kerr('EINVAL', 'nfit_test: set_config_data');
      labels.write(offset, data.subarray(0, Math.min(data.length, labels.size - offset)));
    });
  }

  /** nfit_test_cmd_ars_cap(): clear-error unit 256; room for a status with NFIT_TEST_ARS_RECORDS records. */
  arsCap(address: number, length: number): { maxArsOut: number; clearErrUnit: number } {
    checkRange(address, length, 'nfit_test: ars_cap');
    return {
      maxArsOut: ND_CMD_ARS_STATUS_SIZE + NFIT_TEST_ARS_RECORDS * ND_ARS_RECORD_SIZE,
      clearErrUnit: NFIT_TEST_CLEAR_ERR_UNIT,
    };
  }

  /**
   * nfit_test_cmd_ars_start(): EBUSY while the last scrub is still busy; otherwise posts a scrub of
   * [address, address+length) whose records are the injected ranges clipped to it, taken now.
   */
  arsStart(address: number, length: number): void {
    checkRange(address, length, 'nfit_test: ars_start');
    if (this.#busyLeft > 0) throw kerr('EBUSY', 'nfit_test: ars_start');
    this.#postArsStatus(address, length);
  }

  /** nfit_test_cmd_ars_status(): busy (and empty) for the configured number of polls, then the posted result. */
  arsStatus(): ArsStatus {
    if (this.#busyLeft > 0) {
      this.#busyLeft--;
      return { busy: true, address: 0, length: 0, records: [] };
    }
    const p = this.#posted;
    return { busy: false, address: p.address, length: p.length, records: p.records.map((r) => ({ ...r })) };
  }

  /**
   * nfit_test_cmd_clear_error(): EINVAL unless address and length are multiples of 256; forgets the range in
   * the injected list, clears poison there and reports every byte cleared.
   */
  clearError(address: number, length: number): number {
    checkRange(address, length, 'nfit_test: clear_error');
    if (address % NFIT_TEST_CLEAR_ERR_UNIT !== 0 || length % NFIT_TEST_CLEAR_ERR_UNIT !== 0)
      throw kerr('EINVAL', 'nfit_test: clear_error');
    if (length === 0) return 0;
    this.#badrange.forget(address, length);
    this.#poison.clearPoison?.(address, length);
    this.#saveInjected();
    return length;
  }

  /** nfit_test_cmd_ars_error_inject(): EINVAL for an empty range; adds it to the injected list and poisons it. */
  injectError(address: number, length: number): void {
    checkRange(address, length, 'nfit_test: ars_error_inject');
    if (length === 0) throw kerr('EINVAL', 'nfit_test: ars_error_inject');
    this.#badrange.add(address, length);
    this.#poison.poison?.(address, length);
    this.#saveInjected();
  }

  /** nfit_test_cmd_ars_inject_clear(): EINVAL for an empty range; forgets it and clears its poison. */
  uninjectError(address: number, length: number): void {
    checkRange(address, length, 'nfit_test: ars_inject_clear');
    if (length === 0) throw kerr('EINVAL', 'nfit_test: ars_inject_clear');
    this.#badrange.forget(address, length);
    this.#poison.clearPoison?.(address, length);
    this.#saveInjected();
  }

  #saveInjected(): void {
    this.#injected?.save(this.injectedErrors());
  }

  /** nfit_test_cmd_ars_inject_status(): the injected list, in list order. */
  injectedErrors(): InjectedError[] {
    return this.#badrange.entries().map((e) => ({ address: e.start, length: e.length }));
  }

  /** Sets or clears ND_CMD_* bit `cmd` in DIMM `handle`'s fail_cmd mask. ENXIO for an unknown DIMM. */
  failCmd(handle: number, cmd: number, fail = true): void {
    if (!Number.isInteger(cmd) || cmd < 0 || cmd > 31) throw kerr('EINVAL', 'nfit_test: fail_cmd');
    const state = this.#state(handle, 'fail_cmd');
    state.failFlags = fail ? (state.failFlags | (1 << cmd)) >>> 0 : (state.failFlags & ~(1 << cmd)) >>> 0;
  }

  /** test_dimmN/fail_cmd: the DIMM's mask of failing ND_CMD_* bits. */
  failCmdFlags(handle: number): number {
    return this.#state(handle, 'fail_cmd').failFlags;
  }

  /** fail_cmd_store(): replaces the DIMM's whole mask. */
  setFailCmdFlags(handle: number, mask: number): void {
    if (!Number.isInteger(mask) || mask < 0 || mask > 0xffffffff) throw kerr('EINVAL', 'nfit_test: fail_cmd');
    this.#state(handle, 'fail_cmd').failFlags = mask >>> 0;
  }

  /** test_dimmN/fail_cmd_code: the error a failed command reports instead of EIO; null restores EIO. */
  setFailCmdCode(handle: number, code: ErrnoCode | null): void {
    this.#state(handle, 'fail_cmd_code').failCode = code;
  }

  /** The label store of a DIMM, or null for a label-less one. ENXIO for an unknown DIMM. */
  labelStore(handle: number): LabelStore | null {
    return this.#state(handle, 'label_store').labels;
  }

  #state(handle: number, op: string): DimmState {
    const state = this.#dimms.get(handle);
    if (state === undefined) throw kerr('ENXIO', `nfit_test: ${op}`);
    return state;
  }

  /** The DIMM branch of nfit_test_ctl(): dsm-mask check, get_dimm(), the handler, override_return_code(). */
  #dimmCmd<T>(handle: number, cmd: number, name: string, run: (labels: LabelStore) => T): T {
    const state = this.#dimms.get(handle);
    if (state !== undefined && state.labels === null) throw kerr('ENOTTY', `nfit_test: ${name}`);
    if (state === undefined || state.labels === null) throw kerr('ENXIO', `nfit_test: ${name}`);
    let result: T | undefined;
    let error: unknown = null;
    try {
      result = run(state.labels);
    } catch (e) {
      error = e;
    }
    if ((state.failFlags & (1 << cmd)) !== 0) throw kerr(state.failCode ?? 'EIO', `nfit_test: ${name}`);
    if (error !== null) throw error;
    return result as T;
  }

  /** post_ars_status(): snapshots the records for [addr, addr+len) and starts the busy countdown. */
  #postArsStatus(addr: number, len: number): void {
    const found = this.#midpoint
      ? [{ start: addr + Math.floor(len / 2), length: 4096 }]
      : this.#badrange.intersect(addr, len);
    this.#posted = {
      address: addr,
      length: len,
      records: found
        .slice(0, NFIT_TEST_ARS_RECORDS)
        .map((e) => ({ handle: 0, address: e.start, length: e.length })),
    };
    this.#busyLeft = this.#busyPolls;
  }
}
