/**
 * drivers/acpi/nfit/core.c (nfit.ko): turns an NFIT platform description into an nvdimm bus, nmem devices and
 * pmem regions, dispatches bus and DIMM commands to the platform's _DSM implementation (acpi_nfit_ctl), runs
 * address range scrub to find media errors, and exposes the nfit/ sysfs attributes ndctl reads.
 *
 * Newer than v4.12 (documented departure): when the firmware implements ARS error injection, the bus also
 * takes ND_CMD_CALL with the NFIT_CMD_ARS_INJECT_SET/CLEAR/GET functions (v4.15's bus_dsm_mask, shown as
 * ndbusN/nfit/dsm_mask, which ndctl reads to decide error injection is supported). An injection with the
 * notify option starts a rescan from here; in the kernel the platform's notification does that.
 */
import {
  type AttributeGroup,
  type Device,
  IORES_DESC_PERSISTENT_MEMORY,
  IORESOURCE_MEM,
  type Kernel,
  kerr,
  type Module,
  type ModuleContext,
  type ModuleDefinition,
  Resource,
} from '@daxsim/kernel';
import { BUS_CMD_NAMES, commandsShow } from './dimm_devs.js';
import { ndFletcher64 } from './fletcher64.js';
import { type Libnvdimm, libnvdimmModule } from './libnvdimm.js';
import {
  ND_CMD_ARS_CAP,
  ND_CMD_ARS_START,
  ND_CMD_ARS_STATUS,
  ND_CMD_CALL,
  ND_CMD_CLEAR_ERROR,
  ND_CMD_GET_CONFIG_DATA,
  ND_CMD_GET_CONFIG_SIZE,
  ND_CMD_SET_CONFIG_DATA,
  ND_CMD_SMART,
  type NdCommand,
  type NdRegion,
  NVDIMM_REVALIDATE_POISON,
  type Nvdimm,
  type NvdimmBus,
} from './nd.js';
import { ND_ARS_PERSISTENT } from './ndctl.js';
import {
  ACPI_NFIT_MEM_FLUSH_FAILED,
  ACPI_NFIT_MEM_HEALTH_ENABLED,
  ACPI_NFIT_MEM_HEALTH_OBSERVED,
  ACPI_NFIT_MEM_MAP_FAILED,
  ACPI_NFIT_MEM_NOT_ARMED,
  ACPI_NFIT_MEM_RESTORE_FAILED,
  ACPI_NFIT_MEM_SAVE_FAILED,
  ND_ARS_ERR_INJ_OPT_NOTIFY,
  NFIT_ARS_INJECT_INVALID,
  NFIT_CMD_ARS_INJECT_CLEAR,
  NFIT_CMD_ARS_INJECT_GET,
  NFIT_CMD_ARS_INJECT_SET,
  type NfitDimm,
  type NfitFirmware,
  type NfitPlatform,
  type NfitSpa,
} from './nfit_platform.js';

/** The flag words of nmemN/nfit/flags (flags_show), in the kernel's order. */
const FLAG_NAMES: Array<[number, string]> = [
  [ACPI_NFIT_MEM_SAVE_FAILED, 'save_fail'],
  [ACPI_NFIT_MEM_RESTORE_FAILED, 'restore_fail'],
  [ACPI_NFIT_MEM_FLUSH_FAILED, 'flush_fail'],
  [ACPI_NFIT_MEM_NOT_ARMED, 'not_armed'],
  [ACPI_NFIT_MEM_HEALTH_OBSERVED, 'smart_event'],
  [ACPI_NFIT_MEM_MAP_FAILED, 'map_fail'],
  [ACPI_NFIT_MEM_HEALTH_ENABLED, 'smart_notify'],
];

const BUS_CMD_MASK =
  (1 << ND_CMD_ARS_CAP) | (1 << ND_CMD_ARS_START) | (1 << ND_CMD_ARS_STATUS) | (1 << ND_CMD_CLEAR_ERROR);
const DIMM_LABEL_CMDS =
  (1 << ND_CMD_GET_CONFIG_SIZE) | (1 << ND_CMD_GET_CONFIG_DATA) | (1 << ND_CMD_SET_CONFIG_DATA);
/** The error-injection functions of the bus _DSM. */
const INJECT_DSMS =
  (1 << NFIT_CMD_ARS_INJECT_SET) | (1 << NFIT_CMD_ARS_INJECT_CLEAR) | (1 << NFIT_CMD_ARS_INJECT_GET);

/**
 * acpi_nfit_init_dsms() for the bus: the ND_CMD_* it implements plus, with error injection, ND_CMD_CALL, and
 * bus_dsm_mask, the _DSM functions the firmware answers (the ARS commands and the injection ones).
 */
function busDsms(fw: NfitFirmware): { cmdMask: number; dsmMask: number } {
  const inject =
    fw.injectError !== undefined && fw.uninjectError !== undefined && fw.injectedErrors !== undefined;
  return {
    cmdMask: BUS_CMD_MASK | (inject ? 1 << ND_CMD_CALL : 0),
    dsmMask: BUS_CMD_MASK | (inject ? INJECT_DSMS : 0),
  };
}

type Payload = Record<string, unknown>;

/** A u64 field of an ND_CMD_CALL payload; EFAULT when absent or not a representable unsigned number. */
function payloadU64(p: Payload, name: string): number {
  const v = p[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw kerr('EFAULT', 'acpi_nfit_ctl');
  return v;
}

/** printf's "%#x": "0" for zero, else 0x-prefixed hex. */
const hexAlt = (n: number): string => (n === 0 ? '0' : `0x${n.toString(16)}`);

/** struct acpi_nfit_desc: one registered NFIT. */
export interface AcpiNfitDesc {
  platform: NfitPlatform;
  firmware: NfitFirmware;
  bus: NvdimmBus;
  dimms: Map<number, Nvdimm>;
  regions: NdRegion[];
  /** Insert-resource entries ("Persistent Memory") added for each pmem SPA. */
  resources: Resource[];
  /** Completed scrubs (nfit/scrub). */
  scrubCount: number;
  scrubbing: boolean;
  /** bus_dsm_mask: the bus _DSM functions the firmware implements (nfit/dsm_mask). */
  busDsmMask: number;
}

/**
 * acpi_nfit_init_interleave_set(): the interleave-set cookie labels carry, fletcher64 over the (region offset,
 * serial) pairs of the set sorted by region offset.
 */
export function interleaveSetCookie(spa: NfitSpa, dimms: Map<number, NfitDimm>): bigint {
  const pairs = spa.mappings
    .map((m) => ({ offset: m.dpa, serial: dimms.get(m.handle)?.serial ?? 0 }))
    .sort((a, b) => a.offset - b.offset || a.serial - b.serial);
  const buf = new Uint8Array(pairs.length * 16);
  const view = new DataView(buf.buffer);
  pairs.forEach((p, i) => {
    view.setBigUint64(i * 16, BigInt(p.offset), true);
    view.setUint32(i * 16 + 8, p.serial >>> 0, true);
  });
  return ndFletcher64(buf, buf.length, true);
}

export class AcpiNfit {
  readonly #kernel: Kernel;
  readonly #nd: Libnvdimm;
  readonly #module: Module;
  readonly #descs = new Set<AcpiNfitDesc>();
  /** NFITs whose uncorrectable-error rescan is queued and not yet started. */
  readonly #notifyQueued = new Set<AcpiNfitDesc>();

  constructor(ctx: ModuleContext<Record<string, never>>) {
    this.#kernel = ctx.kernel;
    this.#nd = ctx.symbols(libnvdimmModule);
    this.#module = ctx.module;
  }

  /** acpi_nfit_ctl(): runs `command` on the bus or a DIMM through the platform's _DSM. ENOTTY if unsupported. */
  #ctl(desc: AcpiNfitDesc, nvdimm: Nvdimm | null, command: NdCommand): unknown {
    const fw = desc.firmware;
    if (nvdimm === null) {
      switch (command.cmd) {
        case 'ars_cap':
          return { ...fw.arsCap(command.address, command.length), status: ND_ARS_PERSISTENT << 16 };
        case 'ars_start':
          return fw.arsStart(command.address, command.length);
        case 'ars_status':
          return fw.arsStatus();
        case 'clear_error':
          return fw.clearError(command.address, command.length);
        case 'call':
          return this.#busCall(desc, command.command, command.payload);
        default:
          throw kerr('ENOTTY', 'acpi_nfit_ctl');
      }
    }
    const handle = nvdimm.provider.handle;
    const need = {
      get_config_size: ND_CMD_GET_CONFIG_SIZE,
      get_config_data: ND_CMD_GET_CONFIG_DATA,
      set_config_data: ND_CMD_SET_CONFIG_DATA,
    } as const;
    const cmd = need[command.cmd as keyof typeof need];
    if (cmd === undefined || !(nvdimm.cmdMask & (1 << cmd))) throw kerr('ENOTTY', 'acpi_nfit_ctl');
    switch (command.cmd) {
      case 'get_config_size':
        return fw.getConfigSize(handle);
      case 'get_config_data':
        return fw.getConfigData(handle, command.offset, command.length);
      case 'set_config_data':
        return fw.setConfigData(handle, command.offset, command.data);
      default:
        throw kerr('ENOTTY', 'acpi_nfit_ctl');
    }
  }

  /**
   * acpi_nfit_ctl() for ND_CMD_CALL on the bus: the function must be in bus_dsm_mask (else ENOTTY); the error
   * injection functions run on the firmware's injected list and fill the payload's status (and, for GET, its
   * records). A rejected injection reports NFIT_ARS_INJECT_INVALID and fails with the firmware's error.
   */
  #busCall(desc: AcpiNfitDesc, func: number, payload: unknown): number {
    if (func > 31 || !(desc.busDsmMask & (1 << func))) throw kerr('ENOTTY', 'acpi_nfit_ctl');
    if (typeof payload !== 'object' || payload === null) throw kerr('EFAULT', 'acpi_nfit_ctl');
    const p = payload as Payload;
    const fw = desc.firmware;
    const invalid = (run: () => void): void => {
      try {
        run();
      } catch (e) {
        p.status = NFIT_ARS_INJECT_INVALID;
        throw e;
      }
    };
    switch (func) {
      case NFIT_CMD_ARS_INJECT_SET: {
        const base = payloadU64(p, 'errInjSpaRangeBase');
        const length = payloadU64(p, 'errInjSpaRangeLength');
        const options = payloadU64(p, 'errInjOptions');
        invalid(() => fw.injectError!(base, length));
        p.status = 0;
        if (options & (1 << ND_ARS_ERR_INJ_OPT_NOTIFY)) this.#ucErrorNotify(desc);
        return 0;
      }
      case NFIT_CMD_ARS_INJECT_CLEAR: {
        const base = payloadU64(p, 'errInjClrSpaRangeBase');
        const length = payloadU64(p, 'errInjClrSpaRangeLength');
        invalid(() => fw.uninjectError!(base, length));
        p.status = 0;
        return 0;
      }
      case NFIT_CMD_ARS_INJECT_GET: {
        const record = fw.injectedErrors!().map((e) => ({
          errInjStatSpaRangeBase: e.address,
          errInjStatSpaRangeLength: e.length,
        }));
        Object.assign(p, { status: 0, injErrRecCount: record.length, record });
        return 0;
      }
      default:
        throw kerr('ENOTTY', 'acpi_nfit_ctl');
    }
  }

  /**
   * acpi_nfit_uc_error_notify(): an uncorrectable-error notification queues a rescan of every range (async
   * work; nd_synchronize() waits for it). As with queue_work(), a notification while the rescan is still
   * queued adds nothing, and the work does nothing when a scrub is already running.
   */
  #ucErrorNotify(desc: AcpiNfitDesc): void {
    if (this.#notifyQueued.has(desc)) return;
    this.#notifyQueued.add(desc);
    this.#kernel.async.schedule(async () => {
      this.#notifyQueued.delete(desc);
      if (!desc.scrubbing && this.#descs.has(desc)) await this.acpiNfitArsRescan(desc);
    });
  }

  /** acpi_nfit_clear_to_send(): userspace may not start ARS while the kernel's scrub runs (EBUSY). */
  #clearToSend(desc: AcpiNfitDesc, nvdimm: Nvdimm | null, cmd: number): void {
    if (nvdimm === null && cmd === ND_CMD_ARS_START && desc.scrubbing)
      throw kerr('EBUSY', 'acpi_nfit_clear_to_send');
  }

  #busGroups(desc: () => AcpiNfitDesc): AttributeGroup[] {
    return [
      {
        attrs: [
          { name: 'provider', mode: 0o444, show: () => `${desc().platform.providerName}\n` },
          { name: 'commands', mode: 0o444, show: () => commandsShow(desc().bus.desc.cmdMask, BUS_CMD_NAMES) },
        ],
      },
      {
        name: 'nfit',
        attrs: [
          { name: 'revision', mode: 0o444, show: () => '1\n' },
          { name: 'dsm_mask', mode: 0o444, show: () => `${hexAlt(desc().busDsmMask)}\n` },
          {
            name: 'scrub',
            mode: 0o644,
            show: () => `${desc().scrubCount}${desc().scrubbing ? '+' : ''}\n`,
            store: async (_dev, value) => {
              if (value.trim() !== '1') throw kerr('EINVAL', 'scrub_store');
              await this.acpiNfitArsRescan(desc());
            },
          },
        ],
      },
    ];
  }

  #dimmGroups(d: NfitDimm): AttributeGroup[] {
    return [
      {
        name: 'nfit',
        attrs: [
          { name: 'handle', mode: 0o444, show: () => `${hexAlt(d.handle)}\n` },
          { name: 'phys_id', mode: 0o444, show: () => `${hexAlt(d.physId)}\n` },
          { name: 'serial', mode: 0o444, show: () => `0x${d.serial.toString(16).padStart(8, '0')}\n` },
          {
            name: 'flags',
            mode: 0o444,
            show: () =>
              `${FLAG_NAMES.filter(([bit]) => d.flags & bit)
                .map(([, n]) => `${n} `)
                .join('')}\n`,
          },
        ],
      },
    ];
  }

  /**
   * acpi_nfit_init() + acpi_nfit_register_dimms() + acpi_nfit_register_regions(): the bus under `parent`, its
   * DIMMs (probed before any region), a pmem region per SPA with its resource inserted in iomem, then a first
   * address range scrub whose errors become badblocks.
   */
  async acpiNfitRegister(
    parent: Device,
    platform: NfitPlatform,
    firmware: NfitFirmware,
  ): Promise<AcpiNfitDesc> {
    const nd = this.#nd;
    let desc!: AcpiNfitDesc;
    const dsms = busDsms(firmware);
    const bus = await nd.nvdimmBusRegister(
      parent,
      {
        providerName: platform.providerName,
        cmdMask: dsms.cmdMask,
        ndctl: (nvdimm, command) => this.#ctl(desc, nvdimm, command),
        clearToSend: (nvdimm, cmd) => this.#clearToSend(desc, nvdimm, cmd),
        attrGroups: this.#busGroups(() => desc),
      },
      this.#module,
    );
    desc = {
      platform,
      firmware,
      bus,
      dimms: new Map(),
      regions: [],
      resources: [],
      scrubCount: 0,
      scrubbing: false,
      busDsmMask: dsms.dsmMask,
    };
    this.#descs.add(desc);
    // acpi_nfit_init() registers acpi_nfit_unregister as a devres action right after the bus: a failure from
    // here on takes the bus (with every device below it) and the inserted resources down again
    try {
      const byHandle = new Map(platform.dimms.map((d) => [d.handle, d]));
      for (const d of platform.dimms) {
        const cmdMask = (1 << ND_CMD_SMART) | (d.labelSize > 0 ? DIMM_LABEL_CMDS : 0);
        desc.dimms.set(
          d.handle,
          nd.nvdimmCreate(
            bus,
            { handle: d.handle, physId: d.physId, serial: d.serial, flags: d.flags },
            cmdMask,
            this.#dimmGroups(d),
          ),
        );
      }
      await nd.ndSynchronize();
      for (const spa of platform.spas) {
        const res = new Resource({
          name: 'Persistent Memory',
          start: spa.base,
          end: spa.base + spa.size - 1,
          flags: IORESOURCE_MEM,
          desc: IORES_DESC_PERSISTENT_MEMORY,
        });
        this.#kernel.iomem.insertResource(this.#kernel.iomem.iomemResource, res);
        desc.resources.push(res);
        const mappings = spa.mappings.map((m) => {
          const nvdimm = desc.dimms.get(m.handle);
          if (nvdimm === undefined) throw kerr('EINVAL', 'acpi_nfit_register_region');
          return { nvdimm, start: m.dpa, size: m.size };
        });
        desc.regions.push(
          nd.nvdimmPmemRegionCreate(bus, {
            start: spa.base,
            size: spa.size,
            mappings,
            interleaveCookie: mappings.length > 0 ? interleaveSetCookie(spa, byHandle) : 0n,
            numaNode: spa.numaNode ?? 0,
            readOnly: spa.readOnly === true || spa.type === 'vcd',
          }),
        );
      }
      await nd.ndSynchronize();
      await this.acpiNfitArsRescan(desc);
    } catch (e) {
      await this.acpiNfitUnregister(desc);
      throw e;
    }
    return desc;
  }

  /**
   * acpi_nfit_ars_rescan(): scrubs every SPA (ARS start, status polled until done), records each error in the
   * bus's badrange and tells every region to revalidate its poison. EBUSY while a scrub runs.
   */
  async acpiNfitArsRescan(desc: AcpiNfitDesc): Promise<void> {
    if (desc.scrubbing) throw kerr('EBUSY', 'acpi_nfit_ars_rescan');
    desc.scrubbing = true;
    try {
      for (const spa of desc.platform.spas) {
        if (spa.type !== 'pmem') continue;
        await this.#arsDrain(desc);
        desc.firmware.arsStart(spa.base, spa.size);
        const status = await this.#arsDrain(desc);
        for (const r of status.records) this.#nd.nvdimmBusAddBadrange(desc.bus, r.address, r.length);
      }
      desc.scrubCount++;
    } finally {
      desc.scrubbing = false;
    }
    for (const region of desc.regions) this.#nd.nvdimmRegionNotify(region, NVDIMM_REVALIDATE_POISON);
  }

  /** ars_status polled until the firmware has no scrub in progress (acpi_nfit_query_poison's retry). */
  async #arsDrain(desc: AcpiNfitDesc) {
    let status = desc.firmware.arsStatus();
    while (status.busy) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      status = desc.firmware.arsStatus();
    }
    return status;
  }

  /** acpi_nfit_shutdown(): unregisters the bus (every device below it) and removes the inserted resources. */
  async acpiNfitUnregister(desc: AcpiNfitDesc): Promise<void> {
    await this.#nd.nvdimmBusUnregister(desc.bus);
    for (const res of desc.resources.reverse()) this.#kernel.iomem.removeResource(res);
    this.#descs.delete(desc);
  }

  /** Registered NFITs. */
  get descs(): ReadonlySet<AcpiNfitDesc> {
    return this.#descs;
  }
}

/** nfit.ko. */
export const nfitModule: ModuleDefinition<Record<string, never>, AcpiNfit> = {
  name: 'nfit',
  description: 'ACPI NFIT: NVDIMM firmware interface table driver',
  requires: [libnvdimmModule],
  init: (ctx) => new AcpiNfit(ctx),
};
