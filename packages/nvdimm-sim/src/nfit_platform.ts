/**
 * The platform side of ACPI NFIT (include/acpi/actbl1.h, drivers/acpi/nfit/nfit.h): what firmware tells the
 * nfit driver about DIMMs and system-physical-address (SPA) ranges, and the device-specific methods (_DSM) the
 * driver calls for label storage, address range scrub and error clearing. A platform provider (nfit_test in
 * @daxsim/test-nvdimm, or a user's description) implements `NfitFirmware`; the nfit driver (nfit.ts) turns the
 * description into an nvdimm bus, nmem devices and regions.
 */

/** ACPI_NFIT_MEM_*: the memory-device state flags ndctl reports as flag_failed_save and friends. */
export const ACPI_NFIT_MEM_SAVE_FAILED = 1 << 0;
export const ACPI_NFIT_MEM_RESTORE_FAILED = 1 << 1;
export const ACPI_NFIT_MEM_FLUSH_FAILED = 1 << 2;
export const ACPI_NFIT_MEM_NOT_ARMED = 1 << 3;
export const ACPI_NFIT_MEM_HEALTH_OBSERVED = 1 << 4;
export const ACPI_NFIT_MEM_HEALTH_ENABLED = 1 << 5;
export const ACPI_NFIT_MEM_MAP_FAILED = 1 << 6;

/** One NVDIMM (a memory-device-to-SPA map's device handle, plus its control region's identity). */
export interface NfitDimm {
  /** NFIT device handle (node/socket/imc/channel/dimm bits), shown as nmemN/nfit/handle. */
  handle: number;
  /** Physical id, shown as nmemN/nfit/phys_id. */
  physId: number;
  /** Serial number, shown as nmemN/nfit/serial; part of the interleave-set cookie. */
  serial: number;
  /** DIMM capacity in bytes (DPA space). */
  size: number;
  /** Namespace label storage area (config data) size in bytes; 0 for a label-less DIMM. */
  labelSize: number;
  /** ACPI_NFIT_MEM_* bits. */
  flags: number;
}

/** One DIMM's part of an SPA range: `size` bytes of its DPA space starting at `dpa`. */
export interface NfitMapping {
  /** Device handle of the DIMM (NfitDimm.handle). */
  handle: number;
  dpa: number;
  size: number;
}

/** ACPI_NFIT_TYPE_SYSTEM_ADDRESS: one SPA range. */
export interface NfitSpa {
  /** SPA range structure index. */
  rangeIndex: number;
  /** "pmem": a persistent-memory region; "vcd": a virtual CD (a read-only region without DIMMs). */
  type: 'pmem' | 'vcd';
  /** Physical base address (PAGE_SIZE-aligned). */
  base: number;
  /** Length in bytes. */
  size: number;
  /** The DIMMs interleaved into the range (ways = length); empty for a range without labels (namespace_io). */
  mappings: NfitMapping[];
  /** ACPI_NFIT_PROXIMITY_VALID proximity domain, reported as numa_node. */
  numaNode?: number;
  /** A read-only region (region/ro reads 1). */
  readOnly?: boolean;
}

/** The NFIT plus the identity of the bus it describes. */
export interface NfitPlatform {
  /** nvdimm_bus_descriptor.provider_name ("ACPI.NFIT", "nfit_test.0"). */
  providerName: string;
  dimms: NfitDimm[];
  spas: NfitSpa[];
}

/** One ARS error record (struct nd_ars_record). */
export interface ArsRecord {
  handle: number;
  address: number;
  length: number;
}

/** ND_CMD_ARS_STATUS output. `busy` is ARS still in progress (the kernel's -EBUSY status). */
export interface ArsStatus {
  busy: boolean;
  address: number;
  length: number;
  records: ArsRecord[];
}

/**
 * The _DSM methods (ND_CMD_*) the nfit driver calls. A method may throw a kernel error (EIO for a command the
 * firmware fails, EINVAL for a bad payload, ENOTTY for one it does not implement).
 */
export interface NfitFirmware {
  /** ND_CMD_GET_CONFIG_SIZE on a DIMM: the label area size and the largest transfer. */
  getConfigSize(handle: number): { configSize: number; maxXfer: number };
  /** ND_CMD_GET_CONFIG_DATA: `length` bytes of the label area from `offset`. */
  getConfigData(handle: number, offset: number, length: number): Uint8Array;
  /** ND_CMD_SET_CONFIG_DATA: writes `data` into the label area at `offset`. */
  setConfigData(handle: number, offset: number, data: Uint8Array): void;
  /** ND_CMD_ARS_CAP on [address, address+length): the clear-error unit and the largest status payload. */
  arsCap(address: number, length: number): { maxArsOut: number; clearErrUnit: number };
  /** ND_CMD_ARS_START: begins a scrub of [address, address+length); EBUSY while one is running. */
  arsStart(address: number, length: number): void;
  /** ND_CMD_ARS_STATUS: the last scrub's progress and the errors it found. */
  arsStatus(): ArsStatus;
  /** ND_CMD_CLEAR_ERROR: clears poison in [address, address+length) (clear-error-unit aligned); bytes cleared. */
  clearError(address: number, length: number): number;
  /**
   * NFIT_CMD_ARS_INJECT_SET (ACPI 6.2, newer kernels): adds [address, address+length) to the platform's error
   * list, which later scrubs report. The three injection methods come together or not at all.
   */
  injectError?(address: number, length: number): void;
  /** NFIT_CMD_ARS_INJECT_CLEAR: removes [address, address+length) from the injected list. */
  uninjectError?(address: number, length: number): void;
  /** NFIT_CMD_ARS_INJECT_GET: the injected list. */
  injectedErrors?(): Array<{ address: number; length: number }>;
}

/** drivers/acpi/nfit/nfit.h NFIT_CMD_*: the bus _DSM functions reached through ND_CMD_CALL. */
export const NFIT_CMD_TRANSLATE_SPA = 5;
export const NFIT_CMD_ARS_INJECT_SET = 7;
export const NFIT_CMD_ARS_INJECT_CLEAR = 8;
export const NFIT_CMD_ARS_INJECT_GET = 9;
/** nd_cmd_ars_err_inj.err_inj_options bit: the platform notifies the OS, which scrubs again. */
export const ND_ARS_ERR_INJ_OPT_NOTIFY = 0;
/** NFIT_ARS_INJECT_INVALID: the status of an injection request with a bad range. */
export const NFIT_ARS_INJECT_INVALID = 2;

/** struct nd_cmd_ars_err_inj (NFIT_CMD_ARS_INJECT_SET payload). */
export interface NdCmdArsErrInj {
  errInjSpaRangeBase: number;
  errInjSpaRangeLength: number;
  errInjOptions: number;
  status: number;
}

/** struct nd_cmd_ars_err_inj_clr (NFIT_CMD_ARS_INJECT_CLEAR payload). */
export interface NdCmdArsErrInjClr {
  errInjClrSpaRangeBase: number;
  errInjClrSpaRangeLength: number;
  status: number;
}

/** struct nd_error_stat_query_record. */
export interface NdErrorStatQueryRecord {
  errInjStatSpaRangeBase: number;
  errInjStatSpaRangeLength: number;
}

/** struct nd_cmd_ars_err_inj_stat (NFIT_CMD_ARS_INJECT_GET payload); `record` is replaced by the list. */
export interface NdCmdArsErrInjStat {
  status: number;
  injErrRecCount: number;
  record: NdErrorStatQueryRecord[];
}
