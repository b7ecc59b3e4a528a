/**
 * A small NFIT platform for nvdimm-sim's own integration tests: three DIMMs (two with 128 KiB label areas, one
 * without), three pmem SPA ranges at section-aligned bases, an in-memory firmware (_DSM) with an injectable media
 * error list, and a boot helper that loads dax, libnvdimm, nfit and nd_pmem on a fresh Kernel the way a machine
 * with real NVDIMMs boots: no resource redirection, so the SPA ranges are real iomem resources and
 * devm_memremap_pages() accounts a real memmap. The DIMMs' non-volatile state (labels, media, errors) lives in a
 * `TestNvdimms` the caller may keep and boot again.
 */
import { type DaxCore, daxModule } from '@daxsim/dax-core';
import { type Device, Kernel, kerr, type MemoryBacking, SparseBacking } from '@daxsim/kernel';
import {
  ACPI_NFIT_MEM_NOT_ARMED,
  type AcpiNfit,
  type AcpiNfitDesc,
  type ArsRecord,
  type ArsStatus,
  type Libnvdimm,
  libnvdimmModule,
  type NdPmem,
  type NfitFirmware,
  type NfitPlatform,
  ndPmemModule,
  nfitModule,
} from '../src/index.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
/** x86-64 memory section (SECTION_SIZE_BITS 27). */
export const SECTION = 128 * MiB;
/** The label area of each labelled DIMM. */
export const LABEL_SIZE = 128 * KiB;
/** clear_err_unit the firmware reports. */
export const CLEAR_ERR_UNIT = 256;

export const ND = '/sys/bus/nd/devices';

/** Physical bases of the three SPA ranges: 4, 6 and 8 GiB, section aligned. */
export const SPA0_BASE = 32 * SECTION;
export const SPA1_BASE = 48 * SECTION;
export const SPA2_BASE = 64 * SECTION;

/**
 * The platform: region0 = 2-way interleave of nmem0/nmem1 (1 GiB), region1 = nmem1's second half (512 MiB,
 * 1-way), region2 = the label-less nmem2 (256 MiB, a namespace_io region).
 */
export function testPlatform(): NfitPlatform {
  return {
    providerName: 'nvdimm_sim_test',
    dimms: [
      { handle: 0x0, physId: 0x10, serial: 0xa1b2c3d0, size: GiB, labelSize: LABEL_SIZE, flags: 0 },
      { handle: 0x1, physId: 0x11, serial: 0xa1b2c3d1, size: GiB, labelSize: LABEL_SIZE, flags: 0 },
      {
        handle: 0x100,
        physId: 0x12,
        serial: 0xa1b2c3d2,
        size: 256 * MiB,
        labelSize: 0,
        flags: ACPI_NFIT_MEM_NOT_ARMED,
      },
    ],
    spas: [
      {
        rangeIndex: 0,
        type: 'pmem',
        base: SPA0_BASE,
        size: GiB,
        mappings: [
          { handle: 0x0, dpa: 0, size: 512 * MiB },
          { handle: 0x1, dpa: 0, size: 512 * MiB },
        ],
      },
      {
        rangeIndex: 1,
        type: 'pmem',
        base: SPA1_BASE,
        size: 512 * MiB,
        mappings: [{ handle: 0x1, dpa: 512 * MiB, size: 512 * MiB }],
      },
      {
        rangeIndex: 2,
        type: 'pmem',
        base: SPA2_BASE,
        size: 256 * MiB,
        mappings: [{ handle: 0x100, dpa: 0, size: 256 * MiB }],
      },
    ],
  };
}

/** What survives a reboot: label areas, media and the firmware's list of media errors. */
export class TestNvdimms {
  readonly platform: NfitPlatform;
  /** Label area per DIMM handle (labelled DIMMs only); zero-filled, i.e. no valid index, when new. */
  readonly labels = new Map<number, Uint8Array>();
  /** Media per SPA base. */
  readonly media = new Map<number, MemoryBacking>();
  /** Known media errors (the firmware's bad-range list). */
  readonly errors: Array<{ address: number; length: number }> = [];

  constructor(platform: NfitPlatform = testPlatform()) {
    this.platform = platform;
    for (const d of platform.dimms)
      if (d.labelSize > 0) this.labels.set(d.handle, new Uint8Array(d.labelSize));
    for (const s of platform.spas) this.media.set(s.base, new SparseBacking());
  }

  /** A copy of `length` bytes of SPA media at physical address `phys`, read without the kernel. */
  readMedia(phys: number, length: number): Uint8Array {
    for (const s of this.platform.spas)
      if (phys >= s.base && phys + length <= s.base + s.size) {
        const out = new Uint8Array(length);
        this.media.get(s.base)!.read(phys - s.base, out);
        return out;
      }
    throw new RangeError(`0x${phys.toString(16)} is not SPA media`);
  }
}

export interface TestFirmwareOptions {
  /** ARS status answers busy once after each start, as firmware still scrubbing does. */
  arsBusyOnce?: boolean;
}

/**
 * The platform's _DSM implementation over `TestNvdimms`: label get/set, ARS that reports the error list clipped
 * to the scrubbed range, and clear-error in 256-byte units (EINVAL when unaligned), which also clears the
 * poison the kernel's physical memory carries for the range.
 */
export class TestFirmware implements NfitFirmware {
  readonly #nv: TestNvdimms;
  readonly #kernel: Kernel;
  readonly #busyOnce: boolean;
  #status: ArsStatus = { busy: false, address: 0, length: 0, records: [] };
  #busy = false;
  /** Commands run, by name (for assertions). */
  readonly calls = new Map<string, number>();

  constructor(nvdimms: TestNvdimms, kernel: Kernel, options: TestFirmwareOptions = {}) {
    this.#nv = nvdimms;
    this.#kernel = kernel;
    this.#busyOnce = options.arsBusyOnce ?? false;
  }

  #count(cmd: string): void {
    this.calls.set(cmd, (this.calls.get(cmd) ?? 0) + 1);
  }

  #area(handle: number): Uint8Array {
    const area = this.#nv.labels.get(handle);
    if (area === undefined) throw kerr('ENOTTY', 'test_dsm');
    return area;
  }

  getConfigSize(handle: number): { configSize: number; maxXfer: number } {
    this.#count('get_config_size');
    return { configSize: this.#area(handle).length, maxXfer: 4096 };
  }

  getConfigData(handle: number, offset: number, length: number): Uint8Array {
    this.#count('get_config_data');
    const area = this.#area(handle);
    if (offset < 0 || offset >= area.length) throw kerr('EINVAL', 'test_dsm: get_config_data');
    return area.slice(offset, Math.min(area.length, offset + length));
  }

  setConfigData(handle: number, offset: number, data: Uint8Array): void {
    this.#count('set_config_data');
    const area = this.#area(handle);
    if (offset < 0 || offset + data.length > area.length) throw kerr('EINVAL', 'test_dsm: set_config_data');
    area.set(data, offset);
  }

  arsCap(_address: number, _length: number): { maxArsOut: number; clearErrUnit: number } {
    this.#count('ars_cap');
    return { maxArsOut: 48 + 24 * 16, clearErrUnit: CLEAR_ERR_UNIT };
  }

  arsStart(address: number, length: number): void {
    this.#count('ars_start');
    if (this.#busy) throw kerr('EBUSY', 'test_dsm: ars_start');
    const records: ArsRecord[] = [];
    for (const e of this.#nv.errors) {
      const start = Math.max(e.address, address);
      const end = Math.min(e.address + e.length, address + length);
      if (end > start) records.push({ handle: 0, address: start, length: end - start });
    }
    this.#status = { busy: false, address, length, records };
    this.#busy = this.#busyOnce;
  }

  arsStatus(): ArsStatus {
    this.#count('ars_status');
    if (this.#busy) {
      this.#busy = false;
      return { ...this.#status, busy: true, records: [] };
    }
    return { ...this.#status, records: this.#status.records.map((r) => ({ ...r })) };
  }

  clearError(address: number, length: number): number {
    this.#count('clear_error');
    const mask = CLEAR_ERR_UNIT - 1;
    if (length === 0 || address % CLEAR_ERR_UNIT !== 0 || (length & mask) !== 0)
      throw kerr('EINVAL', 'test_dsm: clear_error');
    const end = address + length;
    const kept: Array<{ address: number; length: number }> = [];
    for (const e of this.#nv.errors) {
      const eEnd = e.address + e.length;
      if (eEnd <= address || e.address >= end) kept.push(e);
      else {
        if (e.address < address) kept.push({ address: e.address, length: address - e.address });
        if (eEnd > end) kept.push({ address: end, length: eEnd - end });
      }
    }
    this.#nv.errors.splice(0, this.#nv.errors.length, ...kept);
    this.#kernel.physmem.clearPoison(address, length);
    return length;
  }

  /** Injects a media error: the firmware lists it and a CPU load of it takes a machine check. */
  injectError(address: number, length: number): void {
    this.#nv.errors.push({ address, length });
    this.#kernel.physmem.poison(address, length);
  }
}

export interface NdTestStack extends AsyncDisposable {
  kernel: Kernel;
  dax: DaxCore;
  nd: Libnvdimm;
  nfit: AcpiNfit;
  pmem: NdPmem;
  nvdimms: TestNvdimms;
  firmware: TestFirmware;
  desc: AcpiNfitDesc;
  /** WARNs the test provokes on purpose (checked at dispose). */
  expectedWarnings: number;
  /** Unregisters the platform, unloads the modules, detaches the media; the leak check runs at dispose. */
  shutdown(): Promise<void>;
}

export interface BootOptions extends TestFirmwareOptions {
  /** Run before the platform registers (to inject errors the first scrub finds, say). */
  beforeRegister?: (firmware: TestFirmware, kernel: Kernel) => void;
}

/**
 * Boots a Kernel with `nvdimms` attached, modprobes dax, libnvdimm, nfit and nd_pmem, registers the platform
 * under a root device "nvdimm_sim_test" and waits for every nd device to register and probe.
 */
export async function bootNd(
  nvdimms: TestNvdimms = new TestNvdimms(),
  options: BootOptions = {},
): Promise<NdTestStack> {
  const kernel = new Kernel();
  for (const spa of nvdimms.platform.spas)
    kernel.physmem.attach(spa.base, spa.size, nvdimms.media.get(spa.base)!);
  for (const e of nvdimms.errors) kernel.physmem.poison(e.address, e.length);
  const baseline = kernel.kmemleak.baseline();
  const m = kernel.modules;
  const dax = await m.modprobe(daxModule);
  const nd = await m.modprobe(libnvdimmModule);
  const nfit = await m.modprobe(nfitModule);
  const pmem = await m.modprobe(ndPmemModule);
  const firmware = new TestFirmware(nvdimms, kernel, options);
  options.beforeRegister?.(firmware, kernel);
  const root: Device = await kernel.driverCore.rootDeviceRegister('nvdimm_sim_test');
  const desc = await nfit.acpiNfitRegister(root, nvdimms.platform, firmware);
  await nd.ndSynchronize();
  let down = false;
  const stack: NdTestStack = {
    kernel,
    dax,
    nd,
    nfit,
    pmem,
    nvdimms,
    firmware,
    desc,
    expectedWarnings: 0,
    async shutdown() {
      if (down) return;
      down = true;
      for (const t of [...kernel.tasks.values()]) {
        t.exit();
        kernel.reapTask(t);
      }
      await nfit.acpiNfitUnregister(desc);
      await kernel.driverCore.rootDeviceUnregister(root);
      for (const name of ['nd_pmem', 'nfit', 'libnvdimm', 'dax']) await m.rmmod(name);
      await kernel.async.synchronizeFull();
      await kernel.rcu.barrier();
      for (const spa of nvdimms.platform.spas) kernel.physmem.detach(spa.base);
    },
    async [Symbol.asyncDispose]() {
      await stack.shutdown();
      baseline.assertClean({ expectedWarnings: stack.expectedWarnings });
    },
  };
  return stack;
}

// --- sysfs helpers, the way ndctl drives the bus ---

/** Reads an nd device attribute, trimmed of its newline. */
export const attr = (k: Kernel, dev: string, name: string): string =>
  k.sysfs.read(`${ND}/${dev}/${name}`).trim();

/** Writes an nd device attribute (with the newline echo adds). */
export const store = (k: Kernel, dev: string, name: string, value: string): Promise<void> =>
  k.sysfs.write(`${ND}/${dev}/${name}`, `${value}\n`);

/** The driver an nd device is bound to, or null. */
export function driverOf(k: Kernel, dev: string): string | null {
  const link = `${ND}/${dev}/driver`;
  return k.sysfs.exists(link) ? k.sysfs.readlink(link).split('/').pop()! : null;
}

/** Writes the driver's bind file and waits for the registrations the probe scheduled. */
export async function bind(k: Kernel, driver: string, dev: string): Promise<void> {
  try {
    await k.sysfs.write(`/sys/bus/nd/drivers/${driver}/bind`, `${dev}\n`);
  } finally {
    await k.async.synchronizeFull();
  }
}

export async function unbind(k: Kernel, dev: string): Promise<void> {
  const drv = driverOf(k, dev);
  if (drv !== null) await k.sysfs.write(`/sys/bus/nd/drivers/${drv}/unbind`, `${dev}\n`);
  await k.async.synchronizeFull();
}

/** The errno code a promise rejects with (or 'ok'). */
export async function errnoOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') throw e;
    return code;
  }
}

/** Sets uuid and size on the region's namespace seed; returns the namespace's name. */
export async function createNamespace(
  k: Kernel,
  region: string,
  size: number,
  uuid: string,
): Promise<string> {
  const ns = attr(k, region, 'namespace_seed');
  await store(k, ns, 'uuid', uuid);
  await store(k, ns, 'size', String(size));
  return ns;
}

/** Configures the region's pfn seed for `ns` (map=dev unless told) and binds it to nd_pmem. */
export async function enableFsdax(
  k: Kernel,
  region: string,
  ns: string,
  o: { uuid: string; mode?: 'pmem' | 'ram'; align?: number },
): Promise<string> {
  const pfn = attr(k, region, 'pfn_seed');
  await store(k, pfn, 'uuid', o.uuid);
  await store(k, pfn, 'mode', o.mode ?? 'pmem');
  if (o.align !== undefined) await store(k, pfn, 'align', String(o.align));
  await store(k, pfn, 'namespace', ns);
  await bind(k, 'nd_pmem', pfn);
  return pfn;
}
