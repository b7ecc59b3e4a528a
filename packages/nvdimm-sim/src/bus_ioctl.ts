/**
 * drivers/nvdimm/bus.c, the ioctl half: __nd_ioctl() behind /dev/ndctlN (bus commands) and /dev/nmemN (DIMM
 * commands). The command must be one the bus or DIMM advertises; a descriptor opened read-only may only read;
 * nd_cmd_clear_to_send() refuses label writes to a DIMM in an enabled region and lets the provider refuse an
 * ARS start while the kernel scrubs; the provider runs the command and the kernel copies the answer back into
 * the caller's struct (only on success, as copy_to_user is skipped on error).
 *
 * `arg` is the JS object standing for the C struct (see ndctl.ts). A field that is missing or not a number of
 * its C width, or a buffer shorter than its length field, is EFAULT: the analog of a struct that cannot be
 * copied in. Departures: wait_nvdimm_bus_probe_idle() is not modelled (ioctl is synchronous here); the ARS
 * status buffer check (EINVAL when the records do not fit) is nfit_test's, made here because the typed
 * provider interface carries no buffer length; ND_CMD_CALL on the bus checks the family as newer kernels do.
 */
import { type Device, iocNr, kerr } from '@daxsim/kernel';
import { BUS_CMD_NAMES, DIMM_CMD_NAMES } from './dimm_devs.js';
import type { Libnvdimm } from './libnvdimm.js';
import {
  isNdDax,
  ND_CMD_ARS_CAP,
  ND_CMD_ARS_START,
  ND_CMD_ARS_STATUS,
  ND_CMD_CALL,
  ND_CMD_CLEAR_ERROR,
  ND_CMD_DIMM_FLAGS,
  ND_CMD_GET_CONFIG_DATA,
  ND_CMD_GET_CONFIG_SIZE,
  ND_CMD_IMPLEMENTED,
  ND_CMD_SET_CONFIG_DATA,
  ND_CMD_SMART,
  ND_CMD_SMART_THRESHOLD,
  ND_CMD_VENDOR,
  type NdCommand,
  type NdNamespace,
  type Nvdimm,
  type NvdimmBus,
} from './nd.js';
import {
  ND_ARS_PERSISTENT,
  ND_IOCTL_MAX_BUFLEN,
  type NdArsRecord,
  NVDIMM_BUS_FAMILY_NFIT,
  SIZEOF_ND_ARS_RECORD,
  SIZEOF_ND_CMD_ARS_STATUS,
  SIZEOF_ND_CMD_GET_CONFIG_DATA_HDR,
  SIZEOF_ND_CMD_SET_CONFIG_HDR,
} from './ndctl.js';
import type { ArsStatus } from './nfit_platform.js';

/** struct nd_cmd_desc, reduced to the field counts __nd_ioctl tests (a command with none is ENOTTY). */
interface NdCmdDesc {
  inNum: number;
  outNum: number;
}

/** __nd_cmd_dimm_descs[]. */
const DIMM_DESCS: Readonly<Record<number, NdCmdDesc>> = {
  [ND_CMD_IMPLEMENTED]: { inNum: 0, outNum: 0 },
  [ND_CMD_SMART]: { inNum: 0, outNum: 2 },
  [ND_CMD_SMART_THRESHOLD]: { inNum: 0, outNum: 2 },
  [ND_CMD_DIMM_FLAGS]: { inNum: 0, outNum: 2 },
  [ND_CMD_GET_CONFIG_SIZE]: { inNum: 0, outNum: 3 },
  [ND_CMD_GET_CONFIG_DATA]: { inNum: 2, outNum: 2 },
  [ND_CMD_SET_CONFIG_DATA]: { inNum: 3, outNum: 1 },
  [ND_CMD_VENDOR]: { inNum: 3, outNum: 3 },
  [ND_CMD_CALL]: { inNum: 2, outNum: 1 },
};

/** __nd_cmd_bus_descs[]. */
const BUS_DESCS: Readonly<Record<number, NdCmdDesc>> = {
  [ND_CMD_IMPLEMENTED]: { inNum: 0, outNum: 0 },
  [ND_CMD_ARS_CAP]: { inNum: 2, outNum: 4 },
  [ND_CMD_ARS_START]: { inNum: 5, outNum: 2 },
  [ND_CMD_ARS_STATUS]: { inNum: 0, outNum: 3 },
  [ND_CMD_CLEAR_ERROR]: { inNum: 2, outNum: 3 },
  [ND_CMD_CALL]: { inNum: 2, outNum: 1 },
};

/**
 * Commands a read-only descriptor may not send. As in the kernel the numbers are tested without regard to
 * whether the descriptor is a bus or a DIMM, so a read-only /dev/nmemN also refuses GET_CONFIG_SIZE (4, the
 * number of CLEAR_ERROR) and SMART_THRESHOLD (2, that of ARS_START); ndctl always opens O_RDWR.
 */
const WRITE_CMDS = new Set([
  ND_CMD_VENDOR,
  ND_CMD_SET_CONFIG_DATA,
  ND_CMD_ARS_START,
  ND_CMD_CLEAR_ERROR,
  ND_CMD_CALL,
]);

/** nd_cmd_smart.data[]. */
const SMART_DATA_SIZE = 128;

/** NFIT's ARS status words (drivers/acpi/nfit/nfit.h): a scrub in progress, and a start refused as busy. */
const NFIT_ARS_STATUS_BUSY = 1 << 16;
const NFIT_ARS_START_BUSY = 6;

type Struct = Record<string, unknown>;

function struct(arg: unknown): Struct {
  if (typeof arg !== 'object' || arg === null) throw kerr('EFAULT', 'nd_ioctl');
  return arg as Struct;
}

/** An unsigned field of `bits` bits (u64 limited to what a JS number holds exactly). */
function uint(s: Struct, name: string, bits: 16 | 32 | 64): number {
  const v = s[name];
  const max = bits === 64 ? Number.MAX_SAFE_INTEGER : 2 ** bits - 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw kerr('EFAULT', 'nd_ioctl');
  return v;
}

/** A byte buffer of at least `len` bytes. */
function bytes(s: Struct, name: string, len: number): Uint8Array {
  const v = s[name];
  if (!(v instanceof Uint8Array) || v.length < len) throw kerr('EFAULT', 'nd_ioctl');
  return v;
}

function checkBufLen(len: number, nd: Libnvdimm, bus: NvdimmBus, what: string): void {
  if (len <= ND_IOCTL_MAX_BUFLEN) return;
  nd.core.devDbg(bus.dev, `${what} buf_len: ${len} > ${ND_IOCTL_MAX_BUFLEN}`);
  throw kerr('EINVAL', 'nd_ioctl');
}

/**
 * nd_pmem_forget_poison_check(): a clear-error request may not cover the whole of a namespace an enabled pmem
 * or fsdax driver owns (those clear through the driver). As in the kernel, the end of the covered range comes
 * from the request's `cleared` field, which callers leave zero, so in practice nothing is refused.
 */
function forgetPoisonBusy(nd: Libnvdimm, dev: Device, start: number, end: number): boolean {
  if (isNdDax(dev) || dev.driver === null) return false;
  let ns: NdNamespace | null;
  if (nd.isClaimDevice(dev)) ns = nd.toNdPfn(dev).ndns;
  else if (nd.isNamespaceDevice(dev)) ns = nd.toNdNamespace(dev);
  else return false;
  if (ns === null) return false;
  return ns.res.start >= start && ns.res.end <= end;
}

/** nd_cmd_clear_to_send(): the provider's veto, then the clear-error and label-write rules. EBUSY to refuse. */
function ndCmdClearToSend(
  nd: Libnvdimm,
  bus: NvdimmBus,
  nvdimm: Nvdimm | null,
  cmd: number,
  s: Struct,
): void {
  bus.desc.clearToSend?.(nvdimm, cmd);
  if (nvdimm === null && cmd === ND_CMD_CLEAR_ERROR) {
    const start = uint(s, 'address', 64);
    const end = start + uint(s, 'cleared', 64) - 1;
    const busy = nd.core.deviceForEachChild(bus.dev, (child) =>
      nd.core.deviceForEachChild(child, (grandchild) => forgetPoisonBusy(nd, grandchild, start, end)),
    );
    if (busy) throw kerr('EBUSY', 'nd_cmd_clear_to_send');
    return;
  }
  if (nvdimm === null || cmd !== ND_CMD_SET_CONFIG_DATA) return;
  if (nd.dimmInUse(nvdimm)) throw kerr('EBUSY', 'nd_cmd_clear_to_send');
}

/** The provider's ->ndctl() for `command`, with EBUSY from an ARS start reported in its status instead. */
function runArsStart(bus: NvdimmBus, s: Struct, command: NdCommand): void {
  try {
    bus.desc.ndctl(null, command);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'EBUSY') throw e;
    s.status = NFIT_ARS_START_BUSY;
    return;
  }
  s.status = 0;
  s.scrubTime = 0;
}

function fillArsStatus(s: Struct, status: ArsStatus, bufLen: number): void {
  if (status.busy) {
    Object.assign(s, {
      status: NFIT_ARS_STATUS_BUSY,
      outLength: SIZEOF_ND_CMD_ARS_STATUS,
      address: 0,
      length: 0,
      restartAddress: 0,
      restartLength: 0,
      type: 0,
      flags: 0,
      numRecords: 0,
      records: [],
    });
    return;
  }
  const outLength = SIZEOF_ND_CMD_ARS_STATUS + status.records.length * SIZEOF_ND_ARS_RECORD;
  if (bufLen < outLength) throw kerr('EINVAL', 'nd_ioctl: ars_status');
  const records: NdArsRecord[] = status.records.map((r) => ({
    handle: r.handle,
    reserved: 0,
    errAddress: r.address,
    length: r.length,
  }));
  Object.assign(s, {
    status: 0,
    outLength,
    address: status.address,
    length: status.length,
    restartAddress: 0,
    restartLength: 0,
    type: ND_ARS_PERSISTENT,
    flags: 0,
    numRecords: records.length,
    records,
  });
}

/** A bus command, run and copied back. */
function busCommand(nd: Libnvdimm, bus: NvdimmBus, cmd: number, s: Struct): number {
  switch (cmd) {
    case ND_CMD_ARS_CAP: {
      const out = bus.desc.ndctl(null, {
        cmd: 'ars_cap',
        address: uint(s, 'address', 64),
        length: uint(s, 'length', 64),
      }) as { maxArsOut: number; clearErrUnit: number; status?: number };
      Object.assign(s, { status: out.status ?? 0, maxArsOut: out.maxArsOut, clearErrUnit: out.clearErrUnit });
      return 0;
    }
    case ND_CMD_ARS_START:
      uint(s, 'type', 16);
      runArsStart(bus, s, {
        cmd: 'ars_start',
        address: uint(s, 'address', 64),
        length: uint(s, 'length', 64),
      });
      return 0;
    case ND_CMD_ARS_STATUS: {
      const bufLen = uint(s, 'outLength', 32);
      checkBufLen(bufLen, nd, bus, 'bus cmd: ars_status');
      fillArsStatus(s, bus.desc.ndctl(null, { cmd: 'ars_status' }) as ArsStatus, bufLen);
      return 0;
    }
    case ND_CMD_CLEAR_ERROR: {
      const address = uint(s, 'address', 64);
      const cleared = bus.desc.ndctl(null, {
        cmd: 'clear_error',
        address,
        length: uint(s, 'length', 64),
      }) as number;
      nd.nvdimmAccountClearedPoison(bus, address, cleared);
      Object.assign(s, { status: 0, cleared });
      return 0;
    }
    default:
      throw kerr('ENOTTY', 'nd_ioctl');
  }
}

/** A DIMM command, run and copied back. */
function dimmCommand(nd: Libnvdimm, nvdimm: Nvdimm, cmd: number, s: Struct): number {
  const desc = nvdimm.bus.desc;
  switch (cmd) {
    case ND_CMD_GET_CONFIG_SIZE: {
      const out = desc.ndctl(nvdimm, { cmd: 'get_config_size' }) as { configSize: number; maxXfer: number };
      Object.assign(s, { status: 0, configSize: out.configSize, maxXfer: out.maxXfer });
      return 0;
    }
    case ND_CMD_GET_CONFIG_DATA: {
      const offset = uint(s, 'inOffset', 32);
      const length = uint(s, 'inLength', 32);
      checkBufLen(
        SIZEOF_ND_CMD_GET_CONFIG_DATA_HDR + length,
        nd,
        nvdimm.bus,
        `${nvdimm.dev.name} cmd: get_data`,
      );
      const out = bytes(s, 'outBuf', length);
      const data = desc.ndctl(nvdimm, { cmd: 'get_config_data', offset, length }) as Uint8Array;
      out.set(data.subarray(0, length));
      s.status = 0;
      return length - Math.min(length, data.length);
    }
    case ND_CMD_SET_CONFIG_DATA: {
      const offset = uint(s, 'inOffset', 32);
      const length = uint(s, 'inLength', 32);
      checkBufLen(
        SIZEOF_ND_CMD_SET_CONFIG_HDR + length + 4,
        nd,
        nvdimm.bus,
        `${nvdimm.dev.name} cmd: set_data`,
      );
      const data = bytes(s, 'inBuf', length).slice(0, length);
      desc.ndctl(nvdimm, { cmd: 'set_config_data', offset, data });
      s.status = 0;
      return 0;
    }
    case ND_CMD_SMART: {
      const buf = bytes(s, 'data', SMART_DATA_SIZE);
      const out = desc.ndctl(nvdimm, { cmd: 'smart' }) as Uint8Array;
      buf.set(out.subarray(0, SMART_DATA_SIZE));
      s.status = 0;
      return 0;
    }
    default:
      throw kerr('ENOTTY', 'nd_ioctl');
  }
}

/** The nd_cmd_pkg of an ND_CMD_CALL, read before anything else as __nd_ioctl copies it in first. */
function readPkg(s: Struct): { family: number; command: number; payload: unknown } {
  const family = uint(s, 'ndFamily', 64);
  const command = uint(s, 'ndCommand', 64);
  uint(s, 'ndSizeIn', 32);
  uint(s, 'ndSizeOut', 32);
  const reserved = s.ndReserved2;
  if (reserved !== undefined && (!Array.isArray(reserved) || reserved.some((r) => r !== 0)))
    throw kerr('EINVAL', 'nd_ioctl');
  return { family, command, payload: s.ndPayload };
}

/**
 * __nd_ioctl(): runs ioctl `ioctlCmd` (only its _IOC_NR matters, as in the kernel) on `bus`, or on `nvdimm`
 * when given, with the caller's struct `arg`. ENOTTY for a command without a descriptor or outside the
 * bus's or DIMM's command mask; EPERM for a write command on a read-only descriptor; EBUSY when
 * nd_cmd_clear_to_send() refuses; else the provider's error, or its result (0, or the bytes not transferred).
 */
export function ndIoctl(
  nd: Libnvdimm,
  bus: NvdimmBus,
  nvdimm: Nvdimm | null,
  readOnly: boolean,
  ioctlCmd: number,
  arg: unknown,
): number {
  const cmd = iocNr(ioctlCmd);
  const desc = (nvdimm !== null ? DIMM_DESCS : BUS_DESCS)[cmd];
  const cmdMask = nvdimm !== null ? nvdimm.cmdMask : bus.desc.cmdMask;
  const s = struct(arg);
  const pkg = cmd === ND_CMD_CALL ? readPkg(s) : null;
  if (desc === undefined || desc.inNum + desc.outNum === 0 || !(cmdMask & (1 << cmd)))
    throw kerr('ENOTTY', 'nd_ioctl');
  if (readOnly && WRITE_CMDS.has(cmd)) {
    const name = (nvdimm !== null ? DIMM_CMD_NAMES : BUS_CMD_NAMES)[cmd] ?? 'unknown';
    nd.core.devDbg(bus.dev, `'${name}' command while read-only.`);
    throw kerr('EPERM', 'nd_ioctl');
  }
  if (pkg !== null && nvdimm === null && pkg.family !== NVDIMM_BUS_FAMILY_NFIT)
    throw kerr('EINVAL', 'nd_ioctl');
  if (pkg === null) ndCmdClearToSend(nd, bus, nvdimm, cmd, s);
  if (pkg !== null) {
    const payload =
      typeof pkg.payload === 'object' && pkg.payload !== null ? { ...pkg.payload } : pkg.payload;
    const rc = bus.desc.ndctl(nvdimm, { cmd: 'call', family: pkg.family, command: pkg.command, payload });
    Object.assign(s.ndPayload as object, payload);
    return rc as number;
  }
  return nvdimm === null ? busCommand(nd, bus, cmd, s) : dimmCommand(nd, nvdimm, cmd, s);
}
