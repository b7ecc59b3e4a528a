/**
 * tools/testing/nvdimm/test/nfit.c, the topology half: the NFITs nfit_test.0 and nfit_test.1 describe
 * (nfit_test0_setup, nfit_test1_setup), turned into the NfitPlatform the nfit driver consumes, plus a flat
 * single-DIMM platform of any size for large-namespace tests.
 *
 * nfit_test places its SPA ranges at the addresses of vmalloc buffers. Here each SPA range gets a physical
 * range of its own: SPA i of an instance starts at `base + i * NFIT_TEST_SPA_STRIDE`, so ranges never touch
 * and two instances given different bases never collide.
 */
import {
  ACPI_NFIT_MEM_FLUSH_FAILED,
  ACPI_NFIT_MEM_HEALTH_OBSERVED,
  ACPI_NFIT_MEM_NOT_ARMED,
  ACPI_NFIT_MEM_RESTORE_FAILED,
  ACPI_NFIT_MEM_SAVE_FAILED,
  type NfitDimm,
  type NfitPlatform,
} from '@daxsim/nvdimm-sim';
import { validateNfitPlatform } from './nfit_desc.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** DIMM_SIZE: DPA capacity of every nfit_test DIMM. */
export const DIMM_SIZE = 32 * MiB;
/** LABEL_SIZE: label storage area of every nfit_test DIMM that has label DSMs (ND_CMD_GET_CONFIG_SIZE). */
export const LABEL_SIZE = 128 * KiB;
/** SPA_VCD_SIZE: nfit_test.1's virtual-CD range. */
export const SPA_VCD_SIZE = 4 * MiB;
/** SPA0_SIZE: nfit_test.0's 2-way interleave set (first half of dimm0 and dimm1). */
export const SPA0_SIZE = DIMM_SIZE;
/** SPA1_SIZE: nfit_test.0's 4-way interleave set (second half of dimm0..dimm3). */
export const SPA1_SIZE = DIMM_SIZE * 2;
/** SPA2_SIZE: nfit_test.1's flat PMEM range. */
export const SPA2_SIZE = DIMM_SIZE;

/** Distance between the bases of consecutive SPA ranges of one instance; the ranges leave gaps between them. */
export const NFIT_TEST_SPA_STRIDE = GiB;

/** NFIT_DIMM_HANDLE(node, socket, imc, chan, dimm): the NFIT device handle's bit fields. */
export function nfitDimmHandle(
  node: number,
  socket: number,
  imc: number,
  chan: number,
  dimm: number,
): number {
  return (
    (((node & 0xfff) << 16) |
      ((socket & 0xf) << 12) |
      ((imc & 0xf) << 8) |
      ((chan & 0xf) << 4) |
      (dimm & 0xf)) >>>
    0
  );
}

/** nfit.c's handle[] (v4.12): dimm0..dimm3 on socket 0 (two per memory controller), [4] the hot-plug DIMM. */
export const NFIT_TEST_HANDLES: readonly number[] = [
  nfitDimmHandle(0, 0, 0, 0, 0),
  nfitDimmHandle(0, 0, 0, 0, 1),
  nfitDimmHandle(0, 0, 1, 0, 0),
  nfitDimmHandle(0, 0, 1, 0, 1),
  nfitDimmHandle(0, 1, 0, 0, 0),
];

/** The control-region serial number nfit.c gives DIMM `handle` (dcr->serial_number = ~handle). */
export function nfitTestSerial(handle: number): number {
  return ~handle >>> 0;
}

/** Bytes of physical address space either instance's platform spans from its base (two SPA slots). */
export const NFIT_TEST_SPAN = 2 * NFIT_TEST_SPA_STRIDE;

/** A base for `instance` above 4 GiB (64 GiB and 80 GiB) whose ranges stay clear of the other instance's. */
export function nfitTestDefaultBase(instance: 0 | 1): number {
  return 64 * GiB + instance * 16 * GiB;
}

/**
 * nfit_test0_setup(): bus "nfit_test.0" with dimm0..dimm3 (32 MiB, 128 KiB label areas, flags clear), SPA
 * range 1 = 2-way interleave of the first 16 MiB (DPA 0) of dimm0 and dimm1, SPA range 2 = 4-way interleave of
 * the second 16 MiB (DPA 16 MiB) of dimm0..dimm3. Throws EINVAL for a base that is not page-aligned.
 *
 * Left out: the BLK side (control regions, block-data windows, their SPA ranges and BLK regions; the model has
 * no BLK mode, so the DPA that BLK namespaces would reclaim is simply unused), flush hints, and the hot-plug
 * DIMM (handle[4]) with its single-DIMM SPA range that nfit_test_probe adds by re-running setup with
 * setup_hotplug set; that DIMM arrives through a _FIT notification the model does not have.
 */
export function nfitTest0Platform(base: number): NfitPlatform {
  const half = SPA0_SIZE / 2;
  const dimms: NfitDimm[] = NFIT_TEST_HANDLES.slice(0, 4).map((handle, i) => ({
    handle,
    physId: i,
    serial: nfitTestSerial(handle),
    size: DIMM_SIZE,
    labelSize: LABEL_SIZE,
    flags: 0,
  }));
  const h = NFIT_TEST_HANDLES;
  const platform: NfitPlatform = {
    providerName: 'nfit_test.0',
    dimms,
    spas: [
      {
        rangeIndex: 1,
        type: 'pmem',
        base,
        size: SPA0_SIZE,
        mappings: [
          { handle: h[0]!, dpa: 0, size: half },
          { handle: h[1]!, dpa: 0, size: half },
        ],
      },
      {
        rangeIndex: 2,
        type: 'pmem',
        base: base + NFIT_TEST_SPA_STRIDE,
        size: SPA1_SIZE,
        mappings: [0, 1, 2, 3].map((i) => ({ handle: h[i]!, dpa: half, size: SPA1_SIZE / 4 })),
      },
    ],
  };
  validateNfitPlatform(platform);
  return platform;
}

/**
 * nfit_test1_setup() (v4.12): bus "nfit_test.1" with one DIMM (device handle 0, physical id 0, serial ~0)
 * whose memory-device flags report save, restore and flush failed, health observed and not armed, mapped
 * flat into a 32 MiB PMEM range (range index 1); and a 4 MiB virtual-CD range (range index 0, read-only, no
 * DIMM). v4.12 forces no label DSMs for this bus, so the DIMM's labelSize is 0 and its region is label-less
 * (namespace_io). Throws EINVAL for a base that is not page-aligned.
 */
export function nfitTest1Platform(base: number): NfitPlatform {
  const platform: NfitPlatform = {
    providerName: 'nfit_test.1',
    dimms: [
      {
        handle: 0,
        physId: 0,
        serial: nfitTestSerial(0),
        size: SPA2_SIZE,
        labelSize: 0,
        flags:
          ACPI_NFIT_MEM_SAVE_FAILED |
          ACPI_NFIT_MEM_RESTORE_FAILED |
          ACPI_NFIT_MEM_FLUSH_FAILED |
          ACPI_NFIT_MEM_HEALTH_OBSERVED |
          ACPI_NFIT_MEM_NOT_ARMED,
      },
    ],
    spas: [
      {
        rangeIndex: 1,
        type: 'pmem',
        base,
        size: SPA2_SIZE,
        mappings: [{ handle: 0, dpa: 0, size: SPA2_SIZE }],
      },
      {
        rangeIndex: 0,
        type: 'vcd',
        base: base + NFIT_TEST_SPA_STRIDE,
        size: SPA_VCD_SIZE,
        mappings: [],
        readOnly: true,
      },
    ],
  };
  validateNfitPlatform(platform);
  return platform;
}

/** Options of sparsePlatform(). */
export interface SparsePlatformOptions {
  /** Capacity of the DIMM and of its one SPA range (a multiple of PAGE_SIZE; 1 TiB costs nothing until written). */
  size: number;
  /** Physical base (page-aligned); default 1 TiB. */
  base?: number;
  /** Label area size; default LABEL_SIZE. 0 makes the region label-less (namespace_io). */
  labelSize?: number;
  /** Bus provider name; default "ACPI.NFIT". */
  providerName?: string;
  /** Device handle; default 0. */
  handle?: number;
  /** Serial number; default ~handle. */
  serial?: number;
  /** ACPI_NFIT_MEM_* flags; default 0. */
  flags?: number;
  numaNode?: number;
}

/**
 * A platform in the shape of nfit_test.1's flat range but of any size: one labelled DIMM of `size` bytes mapped
 * 1:1 into one PMEM SPA range. Throws EINVAL as validateNfitPlatform() does.
 */
export function sparsePlatform(options: SparsePlatformOptions): NfitPlatform {
  const handle = options.handle ?? 0;
  const { size } = options;
  const platform: NfitPlatform = {
    providerName: options.providerName ?? 'ACPI.NFIT',
    dimms: [
      {
        handle,
        physId: 0,
        serial: options.serial ?? nfitTestSerial(handle),
        size,
        labelSize: options.labelSize ?? LABEL_SIZE,
        flags: options.flags ?? 0,
      },
    ],
    spas: [
      {
        rangeIndex: 1,
        type: 'pmem',
        base: options.base ?? 1024 * GiB,
        size,
        mappings: [{ handle, dpa: 0, size }],
        ...(options.numaNode === undefined ? {} : { numaNode: options.numaNode }),
      },
    ],
  };
  validateNfitPlatform(platform);
  return platform;
}
