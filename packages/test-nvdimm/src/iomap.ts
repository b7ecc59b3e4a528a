/**
 * tools/testing/nvdimm/test/iomap.c and nfit.c's resource list: the test resources of an nfit_test instance
 * (one mock backing per SPA range, attached to the kernel's physical memory the way nfit_test allocates a
 * vmalloc buffer per range), and the lookup (get_nfit_res) the kernel's resource functions consult to treat
 * requests inside a test resource specially instead of going to the iomem tree.
 */
import {
  type Kernel,
  kerr,
  type MemoryBacking,
  type RedirectedResource,
  type Resource,
  type ResourceRedirect,
  SparseBacking,
} from '@daxsim/kernel';
import type { NfitPlatform, NfitSpa } from '@daxsim/nvdimm-sim';

/** struct nfit_test_resource: one SPA range's mock media and the regions requested inside it. */
export class NfitTestResource implements RedirectedResource {
  /** res.name. */
  readonly name = 'NFIT';
  readonly start: number;
  readonly end: number;
  /** nfit_res->requests: busy regions the kernel's request_region handed out inside this resource. */
  readonly requests: Resource[] = [];
  readonly backing: MemoryBacking;
  readonly spa: NfitSpa;

  constructor(spa: NfitSpa, backing: MemoryBacking) {
    this.spa = spa;
    this.start = spa.base;
    this.end = spa.base + spa.size - 1;
    this.backing = backing;
  }

  /** Whether `phys` falls inside this resource. */
  contains(phys: number): boolean {
    return phys >= this.start && phys <= this.end;
  }
}

/**
 * iomap.c's iomap_ops together with nfit_test.c's instances[]: the one lookup nfit_test.ko installs in a
 * kernel, covering the resources of every live instance. Two instances in one kernel must share one iomap.
 */
export class NfitTestIomap implements ResourceRedirect {
  readonly #kernel: Kernel;
  readonly #instances: NfitTestResources[] = [];

  constructor(kernel: Kernel) {
    this.#kernel = kernel;
  }

  /**
   * nfit_test_setup(): installs this lookup as the kernel's resource redirect. EBUSY when another redirect is
   * installed already (one nfit_test per kernel; its instances share one iomap).
   */
  setup(): void {
    const current = this.#kernel.resourceRedirect;
    if (current === this) return;
    if (current !== null) throw kerr('EBUSY', 'nfit_test_setup');
    this.#kernel.setResourceRedirect(this);
  }

  /** nfit_test_teardown(): removes the redirect if it is this one; later requests take the normal path. */
  teardown(): void {
    if (this.#kernel.resourceRedirect === this) this.#kernel.setResourceRedirect(null);
  }

  /** The iomap installed in `kernel`, if an NfitTestIomap is. */
  static installed(kernel: Kernel): NfitTestIomap | null {
    const current = kernel.resourceRedirect;
    return current instanceof NfitTestIomap ? current : null;
  }

  /** get_nfit_res() / nfit_test_lookup(): the test resource containing `phys`, searching instances in order. */
  lookup(phys: number): NfitTestResource | null {
    for (const inst of this.#instances) {
      const res = inst.lookup(phys);
      if (res !== null) return res;
    }
    return null;
  }

  /** Adds an instance's resources to the lookup (instances[i] = t). */
  add(resources: NfitTestResources): void {
    if (!this.#instances.includes(resources)) this.#instances.push(resources);
  }

  /** Drops an instance's resources from the lookup. */
  remove(resources: NfitTestResources): void {
    const i = this.#instances.indexOf(resources);
    if (i >= 0) this.#instances.splice(i, 1);
  }

  /** How many instances the lookup covers. */
  get instances(): number {
    return this.#instances.length;
  }

  /** Every live test resource, instance by instance. */
  resources(): NfitTestResource[] {
    return this.#instances.flatMap((inst) => [...inst.resources]);
  }
}

/** Options of NfitTestResources. */
export interface NfitTestResourcesOptions {
  /** The mock media of a SPA range; default a fresh SparseBacking (memory allocated only where written). */
  backing?: (spa: NfitSpa) => MemoryBacking;
}

/**
 * test_alloc() for every SPA range of `platform`: attaches a backing at each range in the kernel's physical
 * memory and adds the ranges to `iomap`'s lookup. EBUSY when a range collides with memory already attached
 * (another instance at the same base, say); nothing stays attached then.
 */
export class NfitTestResources {
  readonly resources: readonly NfitTestResource[];
  readonly #kernel: Kernel;
  readonly #iomap: NfitTestIomap;
  #live = true;

  constructor(
    kernel: Kernel,
    iomap: NfitTestIomap,
    platform: NfitPlatform,
    options: NfitTestResourcesOptions = {},
  ) {
    const make = options.backing ?? (() => new SparseBacking());
    const attached: NfitTestResource[] = [];
    try {
      for (const spa of platform.spas) {
        const res = new NfitTestResource(spa, make(spa));
        kernel.physmem.attach(spa.base, spa.size, res.backing);
        attached.push(res);
      }
    } catch (e) {
      for (const res of attached) kernel.physmem.detach(res.start);
      throw e;
    }
    this.resources = attached;
    this.#kernel = kernel;
    this.#iomap = iomap;
    iomap.add(this);
  }

  /** The inner loop of nfit_test_lookup(): this instance's resource containing `phys`, or null. */
  lookup(phys: number): NfitTestResource | null {
    if (!this.#live) return null;
    return this.resources.find((r) => r.contains(phys)) ?? null;
  }

  /** Whether dispose() has not run yet. */
  get live(): boolean {
    return this.#live;
  }

  /**
   * release_nfit_res() for every resource: leaves the lookup and detaches the backings. A resource that still
   * has requested regions is a leak: WARN, and the requests are dropped with it. Idempotent.
   */
  dispose(): void {
    if (!this.#live) return;
    this.#live = false;
    this.#iomap.remove(this);
    const log = this.#kernel.log;
    for (const res of this.resources) {
      const n = res.requests.length;
      log.warn(
        n > 0,
        'tools/testing/nvdimm/test/nfit.c:release_nfit_res',
        `nfit_test: [mem ${hex(res.start)}-${hex(res.end)}] released with ${n} busy request(s): ${res.requests
          .map((r) => `${r.name ?? '<BAD>'} [${hex(r.start)}-${hex(r.end)}]`)
          .join(', ')}`,
      );
      res.requests.length = 0;
      this.#kernel.physmem.detach(res.start);
    }
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
