/**
 * libndctl's command side (ndctl/lib/libndctl.c, ars.c, nfit.c, inject.c): struct ndctl_cmd objects built for a
 * bus or a DIMM, submitted as ioctl(2)s on /dev/ndctlN or /dev/nmemN by a task that opens the node O_RDWR,
 * checks it is the control node sysfs names (major:minor), runs the command and closes it. Label reads and
 * writes go in max_xfer pieces as do_cmd() iterates them.
 *
 * The struct shapes and ioctl numbers are the kernel's uapi (include/uapi/linux/ndctl.h, re-exported by
 * @daxsim/nvdimm-sim as pure data); libndctl carries its own copy of that header, this module imports it.
 */
import { isErrno, major, minor, O_RDWR, S_IFCHR, S_IFMT, type Task } from '@daxsim/kernel';
import {
  ND_CMD_ARS_CAP,
  ND_CMD_ARS_START,
  ND_CMD_ARS_STATUS,
  ND_CMD_CALL,
  ND_CMD_CLEAR_ERROR,
  ND_CMD_GET_CONFIG_DATA,
  ND_CMD_GET_CONFIG_SIZE,
  ND_CMD_SET_CONFIG_DATA,
  ND_IOCTL_ARS_CAP,
  ND_IOCTL_ARS_START,
  ND_IOCTL_ARS_STATUS,
  ND_IOCTL_CALL,
  ND_IOCTL_CLEAR_ERROR,
  ND_IOCTL_GET_CONFIG_DATA,
  ND_IOCTL_GET_CONFIG_SIZE,
  ND_IOCTL_SET_CONFIG_DATA,
  type NdCmdArsCap,
  type NdCmdArsErrInj,
  type NdCmdArsErrInjClr,
  type NdCmdArsErrInjStat,
  type NdCmdArsStart,
  type NdCmdArsStatus,
  type NdCmdClearError,
  type NdCmdGetConfigDataHdr,
  type NdCmdGetConfigSize,
  type NdCmdPkg,
  type NdCmdSetConfigHdr,
  NFIT_CMD_ARS_INJECT_CLEAR,
  NFIT_CMD_ARS_INJECT_GET,
  NFIT_CMD_ARS_INJECT_SET,
  NVDIMM_BUS_FAMILY_NFIT,
  ndCmdArsCap,
  ndCmdArsStart,
  ndCmdArsStatus,
  ndCmdClearError,
} from '@daxsim/nvdimm-sim';
import { type NdBus, type NdDimm, sysfsReadAttr } from './libndctl.js';
import { type NdConfigCtx, neg } from './namespace_config.js';
import { strerror } from './strerror.js';

/** ARS_STATUS_MASK / ARS_EXT_STATUS_SHIFT: a firmware status word's low half and where its extension starts. */
export const ARS_STATUS_MASK = 0xffff;
export const ARS_EXT_STATUS_SHIFT = 16;

/** libndctl-nfit.h: the error-injection firmware status words. */
export const ND_ARS_ERR_INJ_STATUS_NOT_SUPP = 1;
export const ND_ARS_ERR_INJ_STATUS_INVALID_PARAM = 2;

/** sizeof() of the NFIT error-injection payloads (packed), for nd_size_in / nd_size_out. */
const SIZEOF_ND_CMD_ARS_ERR_INJ = 21;
const SIZEOF_ND_CMD_ARS_ERR_INJ_CLR = 20;
const SIZEOF_ND_CMD_ARS_ERR_INJ_STAT = 8;

/** struct ndctl_cmd_iter: a label transfer split into max_xfer pieces. */
interface CmdIter {
  dir: 'read' | 'write';
  maxXfer: number;
  initOffset: number;
  totalXfer: number;
  /** The whole transfer (config_size bytes), shared by a read and the write made from it. */
  totalBuf: Uint8Array;
}

/**
 * struct ndctl_cmd: a command for a bus (dimm null) or a DIMM, with the struct its ioctl passes. `status` is 1
 * until submitted, then the ioctl's result (0, or bytes short) or a negative errno.
 */
export class NdctlCmd<B extends object = object> {
  status = 1;
  constructor(
    readonly bus: NdBus,
    readonly dimm: NdDimm | null,
    /** ND_CMD_* */
    readonly type: number,
    readonly buf: B,
    readonly ioctl: number,
    /** ->get_firmware_status(). */
    readonly firmwareStatus: () => number,
    readonly iter: CmdIter | null = null,
    /** The command this one was made from (ars_cap for ars_start, cfg_size for cfg_read...). */
    readonly source: NdctlCmd | null = null,
  ) {}
}

/** parse_commands(): the ND_CMD_* bits of a "commands" attribute (only words followed by a space count). */
function parseCommands(text: string | null, names: Record<string, number>): number {
  let mask = 0;
  for (const word of (text ?? '').replace(/\n$/, '').split(' ').slice(0, -1)) {
    const cmd = names[word];
    if (cmd !== undefined) mask |= 1 << cmd;
  }
  return mask;
}

/** to_cmd_index() names: bus commands up to ND_CMD_CLEAR_ERROR, DIMM ones up to ND_CMD_CALL. */
const BUS_CMD_INDEX: Record<string, number> = { ars_cap: 1, ars_start: 2, ars_status: 3, clear_error: 4 };
const DIMM_CMD_INDEX: Record<string, number> = {
  smart: 1,
  smart_thresh: 2,
  flags: 3,
  get_size: 4,
  get_data: 5,
  set_data: 6,
  effect_size: 7,
  effect_log: 8,
  vendor: 9,
  cmd_call: 10,
};

/** ndctl_bus_is_cmd_supported(): `cmd` is listed in ndbusN/commands. */
export function ndctlBusIsCmdSupported(bus: NdBus, cmd: number): boolean {
  return (parseCommands(sysfsReadAttr(bus.kernel, `${bus.path}/commands`), BUS_CMD_INDEX) & (1 << cmd)) !== 0;
}

/** ndctl_dimm_is_cmd_supported(): `cmd` is listed in nmemN/commands. */
export function ndctlDimmIsCmdSupported(dimm: NdDimm, cmd: number): boolean {
  return (
    (parseCommands(sysfsReadAttr(dimm.bus.kernel, `${dimm.path}/commands`), DIMM_CMD_INDEX) & (1 << cmd)) !==
    0
  );
}

/** bus->nfit_dsm_mask: ndbusN/nfit/dsm_mask, 0 when absent (a kernel without bus DSM reporting). */
function nfitDsmMask(bus: NdBus): number {
  const v = sysfsReadAttr(bus.kernel, `${bus.path}/nfit/dsm_mask`);
  if (v === null) return 0;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) ? n : 0;
}

/** ndctl_bus_is_nfit_cmd_supported(): NFIT function `cmd` is set in the bus's nfit/dsm_mask. */
export function ndctlBusIsNfitCmdSupported(bus: NdBus, cmd: number): boolean {
  return (nfitDsmMask(bus) & (1 << cmd)) !== 0;
}

/** ndctl_bus_has_error_injection(): an nfit bus whose dsm_mask has ARS_INJECT_SET, _GET and _CLEAR. */
export function ndctlBusHasErrorInjection(bus: NdBus): boolean {
  if (!bus.hasNfit) return false;
  return [NFIT_CMD_ARS_INJECT_SET, NFIT_CMD_ARS_INJECT_GET, NFIT_CMD_ARS_INJECT_CLEAR].every((c) =>
    ndctlBusIsNfitCmdSupported(bus, c),
  );
}

/** The control node of a command and the dev attribute it must match. */
function controlNode(cmd: NdctlCmd): { path: string; dev: string | null } {
  if (cmd.dimm !== null)
    return { path: `/dev/nmem${cmd.dimm.id}`, dev: sysfsReadAttr(cmd.bus.kernel, `${cmd.dimm.path}/dev`) };
  return {
    path: `/dev/ndctl${cmd.bus.id}`,
    dev: sysfsReadAttr(cmd.bus.kernel, `/sys/class/nd/ndctl${cmd.bus.id}/dev`),
  };
}

/** One ioctl; the result, or -errno. */
function ioctlOnce(t: Task, fd: number, cmd: NdctlCmd): number {
  try {
    return t.ioctl(fd, cmd.ioctl, cmd.buf) as number;
  } catch (e) {
    if (isErrno(e)) return e.errno;
    throw e;
  }
}

/**
 * do_cmd(): one ioctl, or for a label transfer one per max_xfer piece (a short piece or a firmware error stops
 * the walk, returning the bytes done).
 */
function doCmd(t: Task, fd: number, cmd: NdctlCmd): number {
  const iter = cmd.iter;
  if (iter === null) return ioctlOnce(t, fd, cmd);
  const hdr = cmd.buf as { inOffset: number; inLength: number; outBuf?: Uint8Array; inBuf?: Uint8Array };
  let rc = 0;
  for (let offset = 0; offset < iter.totalXfer; offset += iter.maxXfer) {
    const xfer = Math.min(iter.totalXfer - offset, iter.maxXfer);
    const at = iter.initOffset + offset;
    hdr.inLength = xfer;
    hdr.inOffset = at;
    if (iter.dir === 'write') hdr.inBuf = iter.totalBuf.slice(at, at + xfer);
    else hdr.outBuf = new Uint8Array(xfer);
    rc = ioctlOnce(t, fd, cmd);
    if (rc < 0) break;
    if (iter.dir === 'read') iter.totalBuf.set(hdr.outBuf!.subarray(0, xfer - rc), at);
    if (cmd.firmwareStatus() !== 0 || rc !== 0) {
      rc = offset + xfer - rc;
      break;
    }
  }
  return rc;
}

/**
 * ndctl_cmd_submit(): opens the command's control node (/dev/ndctl<bus id> or /dev/nmem<dimm id>) O_RDWR in a
 * task, checks it is a character device with the dev_t sysfs shows, runs the command and records the result
 * in cmd.status. Returns that result: 0, bytes short (positive), or -errno.
 */
export function ndctlCmdSubmit(nd: NdConfigCtx, cmd: NdctlCmd): number {
  const { path, dev } = controlNode(cmd);
  const k = nd.kernel;
  const t = k.spawn('ndctl');
  let rc: number;
  try {
    let fd: number;
    try {
      fd = t.open(path, O_RDWR);
    } catch (e) {
      if (!isErrno(e)) throw e;
      nd.err('ndctl_cmd_submit', `failed to open ${path}: ${strerror(-e.errno)}\n`);
      cmd.status = e.errno;
      return e.errno;
    }
    const st = k.devtmpfs.stat(path);
    const rdev = st === undefined ? '' : `${major(st.rdev)}:${minor(st.rdev)}`;
    if (st !== undefined && (st.mode & S_IFMT) === S_IFCHR && rdev === dev) rc = doCmd(t, fd, cmd);
    else {
      nd.err('ndctl_cmd_submit', `failed to validate ${path} as a control node\n`);
      rc = neg('ENXIO');
    }
    t.close(fd);
  } finally {
    t.exit();
    k.reapTask(t);
  }
  cmd.status = rc;
  return rc;
}

/** ndctl_cmd_submit_xlat(): the submit, with no DIMM-family status translation (the NFIT family has none). */
export function ndctlCmdSubmitXlat(nd: NdConfigCtx, cmd: NdctlCmd): number {
  return ndctlCmdSubmit(nd, cmd);
}

// ---- ARS and clear error (ndctl/lib/ars.c) ---------------------------------------------------------------

const arsStatusOf = (buf: { status: number }) => () => buf.status >>> 0;

/** ndctl_bus_cmd_new_ars_cap(): null when the bus does not list ars_cap. */
export function ndctlBusCmdNewArsCap(bus: NdBus, address: number, len: number): NdctlCmd<NdCmdArsCap> | null {
  if (!ndctlBusIsCmdSupported(bus, ND_CMD_ARS_CAP)) return null;
  const buf = ndCmdArsCap(address, len);
  return new NdctlCmd(bus, null, ND_CMD_ARS_CAP, buf, ND_IOCTL_ARS_CAP, arsStatusOf(buf));
}

/** validate_ars_cap(): a successfully submitted ars_cap with a power-of-two clear_err_unit. */
function validArsCap(cap: NdctlCmd): cap is NdctlCmd<NdCmdArsCap> {
  if (cap.type !== ND_CMD_ARS_CAP || cap.status !== 0) return false;
  if ((cap.firmwareStatus() & ARS_STATUS_MASK) !== 0) return false;
  const unit = (cap.buf as NdCmdArsCap).clearErrUnit;
  return unit > 0 && (unit & (unit - 1)) === 0;
}

/** ndctl_bus_cmd_new_ars_start(): over the ars_cap's range; null unless the cap allows ARS `type`. */
export function ndctlBusCmdNewArsStart(
  cap: NdctlCmd<NdCmdArsCap>,
  type: number,
): NdctlCmd<NdCmdArsStart> | null {
  if (!ndctlBusIsCmdSupported(cap.bus, ND_CMD_ARS_START) || !validArsCap(cap)) return null;
  if (!((cap.firmwareStatus() >>> ARS_EXT_STATUS_SHIFT) & type)) return null;
  const buf = ndCmdArsStart(cap.buf.address, cap.buf.length, type);
  return new NdctlCmd(cap.bus, null, ND_CMD_ARS_START, buf, ND_IOCTL_ARS_START, arsStatusOf(buf), null, cap);
}

/** ndctl_bus_cmd_new_ars_status(): a buffer of the cap's max_ars_out bytes. */
export function ndctlBusCmdNewArsStatus(cap: NdctlCmd<NdCmdArsCap>): NdctlCmd<NdCmdArsStatus> | null {
  if (!ndctlBusIsCmdSupported(cap.bus, ND_CMD_ARS_STATUS) || !validArsCap(cap)) return null;
  if (cap.buf.maxArsOut === 0) return null;
  const buf = ndCmdArsStatus(cap.buf.maxArsOut);
  return new NdctlCmd(
    cap.bus,
    null,
    ND_CMD_ARS_STATUS,
    buf,
    ND_IOCTL_ARS_STATUS,
    arsStatusOf(buf),
    null,
    cap,
  );
}

/** ndctl_cmd_ars_cap_get_size(): max_ars_out of a completed ars_cap, else 0. */
export function ndctlCmdArsCapGetSize(cap: NdctlCmd<NdCmdArsCap>): number {
  return cap.status === 0 ? cap.buf.maxArsOut : 0;
}

/** ndctl_cmd_ars_cap_get_range(): the range of a completed ars_cap, else null (-EINVAL). */
export function ndctlCmdArsCapGetRange(
  cap: NdctlCmd<NdCmdArsCap>,
): { address: number; length: number } | null {
  return cap.status === 0 ? { address: cap.buf.address, length: cap.buf.length } : null;
}

/** ndctl_cmd_ars_cap_get_clear_unit(): clear_err_unit of a completed ars_cap, else 0. */
export function ndctlCmdArsCapGetClearUnit(cap: NdctlCmd<NdCmdArsCap>): number {
  return cap.status === 0 ? cap.buf.clearErrUnit : 0;
}

function validArsStat(stat: NdctlCmd<NdCmdArsStatus>): boolean {
  return stat.status >= 0 && stat.status !== 1 && (stat.firmwareStatus() & ARS_STATUS_MASK) === 0;
}

/** ndctl_cmd_ars_in_progress(): the firmware answered "scrub in progress" (extended status 1). */
export function ndctlCmdArsInProgress(stat: NdctlCmd<NdCmdArsStatus>): boolean {
  return validArsStat(stat) && stat.firmwareStatus() === 1 << 16;
}

/** ndctl_cmd_ars_num_records(). */
export function ndctlCmdArsNumRecords(stat: NdctlCmd<NdCmdArsStatus>): number {
  return validArsStat(stat) ? stat.buf.numRecords : 0;
}

/** ndctl_cmd_ars_get_record_addr() / _len(): 0 for an invalid status or index. */
export function ndctlCmdArsGetRecord(
  stat: NdctlCmd<NdCmdArsStatus>,
  i: number,
): { address: number; length: number } {
  const r = validArsStat(stat) ? stat.buf.records[i] : undefined;
  return r === undefined ? { address: 0, length: 0 } : { address: r.errAddress, length: r.length };
}

/**
 * ndctl_bus_cmd_new_clear_error(): a clear of [address, address+len) inside the ars_cap's range and aligned to
 * its clear_err_unit; null otherwise.
 */
export function ndctlBusCmdNewClearError(
  address: number,
  len: number,
  cap: NdctlCmd<NdCmdArsCap>,
): NdctlCmd<NdCmdClearError> | null {
  if (!ndctlBusIsCmdSupported(cap.bus, ND_CMD_ARS_STATUS) || !validArsCap(cap)) return null;
  const c = cap.buf;
  if (address < c.address || address > c.address + c.length || address + len > c.address + c.length)
    return null;
  const mask = c.clearErrUnit - 1;
  if (address % c.clearErrUnit !== 0 || (len & mask) !== 0) return null;
  const buf = ndCmdClearError(address, len);
  return new NdctlCmd(
    cap.bus,
    null,
    ND_CMD_CLEAR_ERROR,
    buf,
    ND_IOCTL_CLEAR_ERROR,
    arsStatusOf(buf),
    null,
    cap,
  );
}

/** ndctl_cmd_clear_error_get_cleared(): bytes a completed clear_error cleared, else 0. */
export function ndctlCmdClearErrorGetCleared(cmd: NdctlCmd<NdCmdClearError>): number {
  return cmd.status === 0 ? cmd.buf.cleared : 0;
}

// ---- NFIT bus commands (ndctl/lib/nfit.c) ----------------------------------------------------------------

function busCall<P extends { status: number }>(
  bus: NdBus,
  command: number,
  sizeIn: number,
  sizeOut: number,
  payload: P,
) {
  const buf: NdCmdPkg<P> = {
    ndFamily: NVDIMM_BUS_FAMILY_NFIT,
    ndCommand: command,
    ndSizeIn: sizeIn,
    ndSizeOut: sizeOut,
    ndFwSize: sizeOut,
    ndPayload: payload,
  };
  return new NdctlCmd(bus, null, ND_CMD_CALL, buf, ND_IOCTL_CALL, () => buf.ndPayload.status >>> 0);
}

/** ndctl_bus_cmd_new_err_inj(): an NFIT_CMD_ARS_INJECT_SET package (fill the payload's range and options). */
export function ndctlBusCmdNewErrInj(bus: NdBus): NdctlCmd<NdCmdPkg<NdCmdArsErrInj>> {
  const sizeIn = SIZEOF_ND_CMD_ARS_ERR_INJ - 4;
  return busCall(bus, NFIT_CMD_ARS_INJECT_SET, sizeIn, 4, {
    errInjSpaRangeBase: 0,
    errInjSpaRangeLength: 0,
    errInjOptions: 0,
    status: 0,
  });
}

/** ndctl_bus_cmd_new_err_inj_clr(): an NFIT_CMD_ARS_INJECT_CLEAR package. */
export function ndctlBusCmdNewErrInjClr(bus: NdBus): NdctlCmd<NdCmdPkg<NdCmdArsErrInjClr>> {
  const sizeIn = SIZEOF_ND_CMD_ARS_ERR_INJ_CLR - 4;
  return busCall(bus, NFIT_CMD_ARS_INJECT_CLEAR, sizeIn, 4, {
    errInjClrSpaRangeBase: 0,
    errInjClrSpaRangeLength: 0,
    status: 0,
  });
}

/** ndctl_bus_cmd_new_err_inj_stat(): an NFIT_CMD_ARS_INJECT_GET package with room for `bufSize` bytes of records. */
export function ndctlBusCmdNewErrInjStat(
  bus: NdBus,
  bufSize: number,
): NdctlCmd<NdCmdPkg<NdCmdArsErrInjStat>> {
  return busCall(bus, NFIT_CMD_ARS_INJECT_GET, 0, SIZEOF_ND_CMD_ARS_ERR_INJ_STAT + bufSize, {
    status: 0,
    injErrRecCount: 0,
    record: [],
  });
}

// ---- label area commands ---------------------------------------------------------------------------------

/** ndctl_dimm_cmd_new_cfg_size(): null when the DIMM does not list get_size. */
export function ndctlDimmCmdNewCfgSize(dimm: NdDimm): NdctlCmd<NdCmdGetConfigSize> | null {
  if (!ndctlDimmIsCmdSupported(dimm, ND_CMD_GET_CONFIG_SIZE)) return null;
  const buf: NdCmdGetConfigSize = { status: 0, configSize: 0, maxXfer: 0 };
  return new NdctlCmd(
    dimm.bus,
    dimm,
    ND_CMD_GET_CONFIG_SIZE,
    buf,
    ND_IOCTL_GET_CONFIG_SIZE,
    () => buf.status,
  );
}

/**
 * ndctl_dimm_cmd_new_cfg_read(): a read of the whole label area (config_size bytes in max_xfer pieces) from a
 * completed cfg_size; null when that failed or the DIMM does not list get_data.
 */
export function ndctlDimmCmdNewCfgRead(
  size: NdctlCmd<NdCmdGetConfigSize>,
): NdctlCmd<NdCmdGetConfigDataHdr> | null {
  const dimm = size.dimm;
  if (size.type !== ND_CMD_GET_CONFIG_SIZE || size.status !== 0) return null;
  if (dimm === null || size.buf.configSize === 0 || size.buf.maxXfer === 0) return null;
  if (!ndctlDimmIsCmdSupported(dimm, ND_CMD_GET_CONFIG_DATA)) return null;
  const buf: NdCmdGetConfigDataHdr = {
    inOffset: 0,
    inLength: size.buf.maxXfer,
    status: 0,
    outBuf: new Uint8Array(size.buf.maxXfer),
  };
  const iter: CmdIter = {
    dir: 'read',
    maxXfer: size.buf.maxXfer,
    initOffset: 0,
    totalXfer: size.buf.configSize,
    totalBuf: new Uint8Array(size.buf.configSize),
  };
  return new NdctlCmd(
    dimm.bus,
    dimm,
    ND_CMD_GET_CONFIG_DATA,
    buf,
    ND_IOCTL_GET_CONFIG_DATA,
    () => buf.status,
    iter,
    size,
  );
}

/** ndctl_cmd_cfg_read_set_extent(): limits an unsubmitted read to [offset, offset+len); -EINVAL past the end. */
export function ndctlCmdCfgReadSetExtent(
  read: NdctlCmd<NdCmdGetConfigDataHdr>,
  len: number,
  offset: number,
): number {
  const size = read.source as NdctlCmd<NdCmdGetConfigSize> | null;
  if (read.iter === null || size === null || read.status <= 0) return neg('EINVAL');
  if (offset + len > size.buf.configSize) return neg('EINVAL');
  read.iter.initOffset = offset;
  read.iter.totalXfer = len;
  return 0;
}

/** ndctl_cmd_cfg_read_get_size(): the bytes a completed read covers, or its error. */
export function ndctlCmdCfgReadGetSize(read: NdctlCmd<NdCmdGetConfigDataHdr>): number {
  if (read.status > 0) return neg('EINVAL');
  if (read.status < 0) return read.status;
  return read.iter?.totalXfer ?? 0;
}

/** ndctl_cmd_cfg_read_get_data(): `len` bytes of a completed read from area offset `offset` (clipped). */
export function ndctlCmdCfgReadGetData(
  read: NdctlCmd<NdCmdGetConfigDataHdr>,
  len: number,
  offset: number,
): Uint8Array | number {
  const iter = read.iter;
  if (iter === null || read.status > 0) return neg('EINVAL');
  if (read.status < 0) return read.status;
  if (offset < iter.initOffset || offset > iter.initOffset + iter.totalXfer) return neg('EINVAL');
  const n = Math.min(len, iter.initOffset + iter.totalXfer - offset);
  return iter.totalBuf.slice(offset, offset + n);
}

/**
 * ndctl_dimm_cmd_new_cfg_write(): a write over the same extent and buffer as a completed read (read, modify,
 * write); null when the read failed or the DIMM does not list set_data.
 */
export function ndctlDimmCmdNewCfgWrite(
  read: NdctlCmd<NdCmdGetConfigDataHdr>,
): NdctlCmd<NdCmdSetConfigHdr> | null {
  const dimm = read.dimm;
  if (read.type !== ND_CMD_GET_CONFIG_DATA || read.status !== 0 || read.iter === null || dimm === null)
    return null;
  if (!ndctlDimmIsCmdSupported(dimm, ND_CMD_SET_CONFIG_DATA)) return null;
  const buf: NdCmdSetConfigHdr = {
    inOffset: read.iter.initOffset,
    inLength: 0,
    inBuf: new Uint8Array(0),
    status: 0,
  };
  const iter: CmdIter = { ...read.iter, dir: 'write' };
  return new NdctlCmd(
    dimm.bus,
    dimm,
    ND_CMD_SET_CONFIG_DATA,
    buf,
    ND_IOCTL_SET_CONFIG_DATA,
    () => buf.status,
    iter,
    read,
  );
}

/** ndctl_cmd_cfg_write_set_data(): copies `data` into the write's buffer at area offset `offset` (clipped). */
export function ndctlCmdCfgWriteSetData(
  write: NdctlCmd<NdCmdSetConfigHdr>,
  data: Uint8Array,
  offset: number,
): number {
  const iter = write.iter;
  if (iter === null || write.status < 1) return neg('EINVAL');
  if (offset < iter.initOffset || offset > iter.initOffset + iter.totalXfer) return neg('EINVAL');
  const n = Math.min(data.length, iter.initOffset + iter.totalXfer - offset);
  iter.totalBuf.set(data.subarray(0, n), offset);
  return n;
}

/** ndctl_cmd_cfg_write_zero_data(): zeroes the write's whole extent. */
export function ndctlCmdCfgWriteZeroData(write: NdctlCmd<NdCmdSetConfigHdr>): number {
  const iter = write.iter;
  if (iter === null || write.status < 1) return neg('EINVAL');
  iter.totalBuf.fill(0, iter.initOffset, iter.initOffset + iter.totalXfer);
  return iter.totalXfer;
}
