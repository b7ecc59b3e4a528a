/**
 * include/uapi/linux/ndctl.h: the ioctl interface of /dev/ndctlN (bus commands) and /dev/nmemN (DIMM
 * commands). A command's argument is the JS object standing for its C struct, fields in camelCase: the kernel
 * reads the input fields from it and writes the output fields back into it (what copy_from_user and
 * copy_to_user do with the user buffer). Variable-length tails are a Uint8Array (config data) or an array of
 * records (ARS status); `ndPayload` of an ND_CMD_CALL package is the object of the family's own struct.
 */
import { iowr } from '@daxsim/kernel';
import {
  ND_CMD_ARS_CAP,
  ND_CMD_ARS_START,
  ND_CMD_ARS_STATUS,
  ND_CMD_CALL,
  ND_CMD_CLEAR_ERROR,
  ND_CMD_DIMM_FLAGS,
  ND_CMD_GET_CONFIG_DATA,
  ND_CMD_GET_CONFIG_SIZE,
  ND_CMD_SET_CONFIG_DATA,
  ND_CMD_SMART,
  ND_CMD_SMART_THRESHOLD,
  ND_CMD_VENDOR,
} from './nd.js';

/** The ioctl type byte, 'N'. */
export const ND_IOCTL = 0x4e;

/** sizeof() of each struct (packed, as the header declares them), without variable-length tails. */
export const SIZEOF_ND_CMD_SMART = 132;
export const SIZEOF_ND_CMD_SMART_THRESHOLD = 12;
export const SIZEOF_ND_CMD_DIMM_FLAGS = 8;
export const SIZEOF_ND_CMD_GET_CONFIG_SIZE = 12;
export const SIZEOF_ND_CMD_GET_CONFIG_DATA_HDR = 12;
export const SIZEOF_ND_CMD_SET_CONFIG_HDR = 8;
export const SIZEOF_ND_CMD_VENDOR_HDR = 8;
export const SIZEOF_ND_CMD_ARS_CAP = 32;
export const SIZEOF_ND_CMD_ARS_START = 32;
export const SIZEOF_ND_CMD_ARS_STATUS = 48;
export const SIZEOF_ND_ARS_RECORD = 24;
export const SIZEOF_ND_CMD_CLEAR_ERROR = 32;
export const SIZEOF_ND_CMD_PKG = 64;

/** DIMM ioctls (/dev/nmemN). */
export const ND_IOCTL_SMART = iowr(ND_IOCTL, ND_CMD_SMART, SIZEOF_ND_CMD_SMART);
export const ND_IOCTL_SMART_THRESHOLD = iowr(ND_IOCTL, ND_CMD_SMART_THRESHOLD, SIZEOF_ND_CMD_SMART_THRESHOLD);
export const ND_IOCTL_DIMM_FLAGS = iowr(ND_IOCTL, ND_CMD_DIMM_FLAGS, SIZEOF_ND_CMD_DIMM_FLAGS);
export const ND_IOCTL_GET_CONFIG_SIZE = iowr(ND_IOCTL, ND_CMD_GET_CONFIG_SIZE, SIZEOF_ND_CMD_GET_CONFIG_SIZE);
export const ND_IOCTL_GET_CONFIG_DATA = iowr(
  ND_IOCTL,
  ND_CMD_GET_CONFIG_DATA,
  SIZEOF_ND_CMD_GET_CONFIG_DATA_HDR,
);
export const ND_IOCTL_SET_CONFIG_DATA = iowr(ND_IOCTL, ND_CMD_SET_CONFIG_DATA, SIZEOF_ND_CMD_SET_CONFIG_HDR);
export const ND_IOCTL_VENDOR = iowr(ND_IOCTL, ND_CMD_VENDOR, SIZEOF_ND_CMD_VENDOR_HDR);
/** Bus ioctls (/dev/ndctlN). */
export const ND_IOCTL_ARS_CAP = iowr(ND_IOCTL, ND_CMD_ARS_CAP, SIZEOF_ND_CMD_ARS_CAP);
export const ND_IOCTL_ARS_START = iowr(ND_IOCTL, ND_CMD_ARS_START, SIZEOF_ND_CMD_ARS_START);
export const ND_IOCTL_ARS_STATUS = iowr(ND_IOCTL, ND_CMD_ARS_STATUS, SIZEOF_ND_CMD_ARS_STATUS);
export const ND_IOCTL_CLEAR_ERROR = iowr(ND_IOCTL, ND_CMD_CLEAR_ERROR, SIZEOF_ND_CMD_CLEAR_ERROR);
/** Both: a family-specific command in an nd_cmd_pkg. */
export const ND_IOCTL_CALL = iowr(ND_IOCTL, ND_CMD_CALL, SIZEOF_ND_CMD_PKG);

/** ND_IOCTL_MAX_BUFLEN: the largest in + out envelope an ioctl may move (SZ_4M). */
export const ND_IOCTL_MAX_BUFLEN = 4 * 1024 * 1024;

/** ARS types (nd_cmd_ars_start.type, and ars_cap's extended status bits 16+). */
export const ND_ARS_VOLATILE = 1;
export const ND_ARS_PERSISTENT = 2;
/** nd_cmd_ars_status.flags: more errors than the output buffer holds. */
export const ND_ARS_STAT_FLAG_OVERFLOW = 1 << 0;

/** nd_cmd_pkg.nd_family for bus commands: the NFIT bus DSMs (newer kernels' NVDIMM_BUS_FAMILY_NFIT). */
export const NVDIMM_BUS_FAMILY_NFIT = 0;

/** struct nd_cmd_smart. */
export interface NdCmdSmart {
  status: number;
  data: Uint8Array;
}

/** struct nd_cmd_get_config_size. */
export interface NdCmdGetConfigSize {
  status: number;
  configSize: number;
  maxXfer: number;
}

/** struct nd_cmd_get_config_data_hdr: `outBuf` receives inLength bytes from inOffset. */
export interface NdCmdGetConfigDataHdr {
  inOffset: number;
  inLength: number;
  status: number;
  outBuf: Uint8Array;
}

/** struct nd_cmd_set_config_hdr plus the trailing u32 status after in_buf[in_length]. */
export interface NdCmdSetConfigHdr {
  inOffset: number;
  inLength: number;
  inBuf: Uint8Array;
  status: number;
}

/** struct nd_cmd_ars_cap (v4.12: the last u32 is reserved). */
export interface NdCmdArsCap {
  address: number;
  length: number;
  status: number;
  maxArsOut: number;
  clearErrUnit: number;
  reserved: number;
}

/** struct nd_cmd_ars_start. */
export interface NdCmdArsStart {
  address: number;
  length: number;
  type: number;
  flags: number;
  status: number;
  scrubTime: number;
}

/** struct nd_ars_record. */
export interface NdArsRecord {
  handle: number;
  reserved: number;
  errAddress: number;
  length: number;
}

/**
 * struct nd_cmd_ars_status. `outLength` is set by the caller to the size of its buffer (ars_cap's
 * max_ars_out) and by the kernel to the size of the answer; `records` is replaced by the records found.
 */
export interface NdCmdArsStatus {
  status: number;
  outLength: number;
  address: number;
  length: number;
  restartAddress: number;
  restartLength: number;
  type: number;
  flags: number;
  numRecords: number;
  records: NdArsRecord[];
}

/** struct nd_cmd_clear_error. */
export interface NdCmdClearError {
  address: number;
  length: number;
  status: number;
  reserved: number;
  cleared: number;
}

/** struct nd_cmd_pkg: `ndPayload` is the family command's struct. */
export interface NdCmdPkg<P = unknown> {
  ndFamily: number;
  ndCommand: number;
  ndSizeIn: number;
  ndSizeOut: number;
  /** nd_reserved2[9]: must be zeros (absent counts as zeros). */
  ndReserved2?: number[];
  ndFwSize: number;
  ndPayload: P;
}

/** A zeroed nd_cmd_ars_cap for [address, address+length). */
export function ndCmdArsCap(address: number, length: number): NdCmdArsCap {
  return { address, length, status: 0, maxArsOut: 0, clearErrUnit: 0, reserved: 0 };
}

/** A zeroed nd_cmd_ars_start for [address, address+length) of ARS `type`. */
export function ndCmdArsStart(address: number, length: number, type: number): NdCmdArsStart {
  return { address, length, type, flags: 0, status: 0, scrubTime: 0 };
}

/** A zeroed nd_cmd_ars_status whose buffer holds `outLength` bytes. */
export function ndCmdArsStatus(outLength: number): NdCmdArsStatus {
  return {
    status: 0,
    outLength,
    address: 0,
    length: 0,
    restartAddress: 0,
    restartLength: 0,
    type: 0,
    flags: 0,
    numRecords: 0,
    records: [],
  };
}

/** A zeroed nd_cmd_clear_error for [address, address+length). */
export function ndCmdClearError(address: number, length: number): NdCmdClearError {
  return { address, length, status: 0, reserved: 0, cleared: 0 };
}
