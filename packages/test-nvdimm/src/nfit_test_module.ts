/**
 * nfit_test.ko (tools/testing/nvdimm/test/nfit.c nfit_test_init/nfit_test_exit): checks that the modules it
 * tests are loaded, installs the resource redirection, and registers nfit_test.0 and nfit_test.1 as platform
 * devices whose NFITs the nfit driver turns into nvdimm buses. Label areas and media live in an `NfitTestMedia`
 * the caller may keep: a kernel booted later with the same media finds the same labels, info blocks and data,
 * as a machine with NVDIMMs does after a reboot.
 */
import {
  Device,
  type Kernel,
  type MemoryBacking,
  type ModuleContext,
  type ModuleDefinition,
  SparseBacking,
} from '@daxsim/kernel';
import {
  type AcpiNfit,
  type AcpiNfitDesc,
  libnvdimmModule,
  type NfitPlatform,
  nfitModule,
} from '@daxsim/nvdimm-sim';
import { nfitTestConfigCheck } from './config_check.js';
import { NfitTestIomap, NfitTestResources } from './iomap.js';
import { nfitTest0Platform, nfitTest1Platform, nfitTestDefaultBase } from './nfit.js';
import {
  type InjectedError,
  type InjectedErrorStore,
  type LabelStore,
  MemoryLabelStore,
  NfitTestFirmware,
} from './nfit_ctl.js';

/**
 * The non-volatile state of the test platforms, keyed by platform name: each DIMM's label area, each SPA
 * range's media and the platform's injected media errors. New entries start as nfit_test starts them (a label
 * area beginning "label<i>", no valid index; zeroed sparse media; no errors). Subclasses keep them elsewhere
 * (in files, say) by overriding labelsFor, backingFor and errorsFor.
 */
export class NfitTestMedia {
  readonly labels = new Map<string, LabelStore>();
  readonly backings = new Map<string, MemoryBacking>();
  readonly errors = new Map<string, InjectedError[]>();

  /** The injected-error list of platform `name`. */
  errorsFor(name: string): InjectedErrorStore {
    return {
      load: () => (this.errors.get(name) ?? []).map((e) => ({ ...e })),
      save: (errors) => {
        this.errors.set(
          name,
          errors.map((e) => ({ ...e })),
        );
      },
    };
  }

  labelsFor(name: string, platform: NfitPlatform): Map<number, LabelStore> {
    const out = new Map<number, LabelStore>();
    platform.dimms.forEach((dimm, i) => {
      if (dimm.labelSize === 0) return;
      const key = `${name}/${dimm.handle}`;
      let store = this.labels.get(key);
      if (store === undefined) {
        store = new MemoryLabelStore(dimm.labelSize, new TextEncoder().encode(`label${i}\0`));
        this.labels.set(key, store);
      }
      out.set(dimm.handle, store);
    });
    return out;
  }

  backingFor(name: string, base: number): MemoryBacking {
    const key = `${name}/${base}`;
    let backing = this.backings.get(key);
    if (backing === undefined) {
      backing = new SparseBacking();
      this.backings.set(key, backing);
    }
    return backing;
  }
}

/** Module parameters of nfit_test. */
export interface NfitTestParams {
  /** Status polls for which ARS answers busy after a start. */
  ars_busy_polls: number;
}

/** One registered platform: its platform device, firmware, test resources and NFIT. */
export interface NfitTestInstance {
  name: string;
  dev: Device;
  platform: NfitPlatform;
  firmware: NfitTestFirmware;
  resources: NfitTestResources;
  desc: AcpiNfitDesc;
}

export class NfitTestModule {
  readonly instances: NfitTestInstance[] = [];
  readonly media: NfitTestMedia;
  readonly #kernel: Kernel;
  readonly #nfit: AcpiNfit;
  readonly #iomap: NfitTestIomap;
  readonly #arsBusyPolls: number;
  #root: Device | null = null;

  readonly #platforms: readonly NfitTestPlatformSpec[];

  constructor(
    ctx: ModuleContext<NfitTestParams>,
    media: NfitTestMedia,
    platforms: readonly NfitTestPlatformSpec[],
  ) {
    this.#platforms = platforms;
    this.#kernel = ctx.kernel;
    this.#nfit = ctx.symbols(nfitModule);
    this.#iomap = new NfitTestIomap(ctx.kernel);
    this.#arsBusyPolls = ctx.params.ars_busy_polls;
    this.media = media;
  }

  /** nfit_test_init(): config check, the redirection, then each platform device (nfit_test.0 and .1) probed. */
  async init(): Promise<this> {
    nfitTestConfigCheck(this.#kernel);
    this.#iomap.setup();
    try {
      this.#root = await this.#kernel.driverCore.rootDeviceRegister('platform');
      for (const p of this.#platforms) await this.addPlatform(p.name, p.platform);
    } catch (e) {
      await this.exit();
      throw e;
    }
    return this;
  }

  /**
   * Registers one more platform device `name` with `platform` over this module's media (for large or
   * user-described platforms beside the two nfit_test ones). EBUSY when its ranges collide with another's.
   */
  async addPlatform(name: string, platform: NfitPlatform): Promise<NfitTestInstance> {
    const k = this.#kernel;
    const firmware = new NfitTestFirmware(platform, {
      labels: this.media.labelsFor(name, platform),
      arsBusyPolls: this.#arsBusyPolls,
      injected: this.media.errorsFor(name),
      poison: {
        poison: (addr, len) => k.physmem.poison(addr, len),
        clearPoison: (addr, len) => k.physmem.clearPoison(addr, len),
      },
    });
    const resources = new NfitTestResources(k, this.#iomap, platform, {
      backing: (spa) => this.media.backingFor(name, spa.base),
    });
    const dev = new Device({ name, parent: this.#root, release: () => {} });
    try {
      await k.driverCore.deviceRegister(dev);
    } catch (e) {
      k.driverCore.putDevice(dev);
      resources.dispose();
      throw e;
    }
    let desc: AcpiNfitDesc;
    try {
      desc = await this.#nfit.acpiNfitRegister(dev, platform, firmware);
    } catch (e) {
      await k.driverCore.deviceUnregister(dev);
      resources.dispose();
      throw e;
    }
    const inst = { name, dev, platform, firmware, resources, desc };
    this.instances.push(inst);
    return inst;
  }

  /** nfit_test_exit(): every NFIT and platform device unregistered, then the test resources released. */
  async exit(): Promise<void> {
    const k = this.#kernel;
    for (const inst of this.instances.reverse()) {
      await this.#nfit.acpiNfitUnregister(inst.desc);
      await k.driverCore.deviceUnregister(inst.dev);
      inst.resources.dispose();
    }
    this.instances.length = 0;
    if (this.#root !== null) await k.driverCore.rootDeviceUnregister(this.#root);
    this.#root = null;
    this.#iomap.teardown();
  }

  /** The instance registered as `name` ("nfit_test.0", ...). */
  instance(name: string): NfitTestInstance {
    const inst = this.instances.find((i) => i.name === name);
    if (inst === undefined) throw new Error(`${name} is not registered`);
    return inst;
  }
}

/** A platform device nfit_test registers at load: its name and its NFIT. */
export interface NfitTestPlatformSpec {
  name: string;
  platform: NfitPlatform;
}

/** nfit_test.0 and nfit_test.1 at their default bases: what nfit_test registers unless told otherwise. */
export function nfitTestPlatforms(): NfitTestPlatformSpec[] {
  return [
    { name: 'nfit_test.0', platform: nfitTest0Platform(nfitTestDefaultBase(0)) },
    { name: 'nfit_test.1', platform: nfitTest1Platform(nfitTestDefaultBase(1)) },
  ];
}

/**
 * nfit_test.ko over `media` (fresh media at each load when omitted) registering `platforms` (default
 * nfitTestPlatforms()): modprobe it after dax, device_dax, libnvdimm, nfit, nd_pmem and dax_pmem. Booting another
 * kernel with a module made over the same media is a reboot of the same machine.
 */
export function makeNfitTestModule(
  media?: NfitTestMedia,
  platforms: readonly NfitTestPlatformSpec[] = nfitTestPlatforms(),
): ModuleDefinition<NfitTestParams, NfitTestModule> {
  return {
    name: 'nfit_test',
    description: 'NFIT test platforms nfit_test.0 and nfit_test.1 over mock media',
    requires: [nfitModule, libnvdimmModule],
    params: {
      ars_busy_polls: {
        default: 1,
        perm: 0o444,
        description: 'ARS status polls answered busy after a start',
      },
    },
    init: (ctx) => new NfitTestModule(ctx, media ?? new NfitTestMedia(), platforms).init(),
    exit: (api) => api.exit(),
  };
}

/** nfit_test.ko with fresh media. */
export const nfitTestModule = makeNfitTestModule();
