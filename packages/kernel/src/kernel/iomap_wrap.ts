/**
 * tools/testing/nvdimm/test/iomap.c: nfit_test links test copies of the nvdimm modules with
 * --wrap=__request_region, __release_region, __devm_request_region, insert_resource, remove_resource,
 * memremap, devm_memremap, devm_memremap_pages..., so that a call for an address inside a test resource
 * (get_nfit_res()) is served by the test harness and every other address takes the real function. Here the
 * wrapping belongs to one Kernel: the harness installs its lookup with kernel.setResourceRedirect(), and the
 * iomem tree (kernel/resource.ts) and memremap (mm/memremap.ts) consult it. Memory access needs no wrapping:
 * the harness attaches its buffers to kernel.physmem.
 */
import type { Device } from '../drivers/base/core.js';
import { devmAddAction, devresRelease } from '../drivers/base/devres.js';
import type { Printk } from './printk.js';
import { IORESOURCE_BUSY, IORESOURCE_TYPE_BITS, Resource, resourceSize, resourceString } from './resource.js';

/** struct nfit_test_resource as the wrappers see it: a test range and the regions requested inside it. */
export interface RedirectedResource {
  readonly start: number;
  /** Last address, inclusive. */
  readonly end: number;
  /** nfit_res->requests: the busy regions requested inside the range, newest first. */
  readonly requests: Resource[];
}

/** The lookup nfit_test_setup() installs (iomap_ops.nfit_test_lookup). */
export interface ResourceRedirect {
  /** get_nfit_res(): the test resource containing `phys`, or null for an address the real functions handle. */
  lookup(phys: number): RedirectedResource | null;
}

/** struct resource ** of nfit_devres_release(). */
interface NfitDevres {
  wrap: IomapWrap;
  res: Resource;
}

/** nfit_devres_release(): a devm request's release, which must find its test resource. */
function nfitDevresRelease(d: NfitDevres): void {
  d.wrap.devresRelease(d.res);
}

/** The wrapped resource functions of one kernel: a redirect when nfit_test is set up, else the real paths. */
export class IomapWrap {
  /** iomap_head's first entry: set by nfit_test_setup(), null after nfit_test_teardown(). */
  redirect: ResourceRedirect | null = null;
  readonly #log: Printk;
  #live = 0;

  constructor(log: Printk) {
    this.#log = log;
  }

  /** get_nfit_res(): the test resource holding `phys`; null when no redirect is installed or it declines. */
  getNfitRes(phys: number): RedirectedResource | null {
    return this.redirect?.lookup(phys) ?? null;
  }

  /**
   * nfit_test_request_region() for an iomem request at `start` inside `nfitRes`: records a busy region of
   * `n` bytes at the head of its request list. null when the region would run past the test resource, or
   * (with a WARN) when a request starting at the same address exists; requests that merely overlap are
   * allowed, as iomap.c only compares starts. With `dev`, a devres action drops the request again.
   */
  requestRegion(
    dev: Device | null,
    nfitRes: RedirectedResource,
    parent: Resource,
    start: number,
    n: number,
    name: string,
    flags: number,
  ): Resource | null {
    const fn = 'nfit_test_request_region';
    if (start + n > nfitRes.end + 1) {
      const limit = new Resource({ start: nfitRes.start, end: nfitRes.end, flags: parent.flags });
      this.#log.debug(`${fn}: start: ${hex(start)} n: ${hex(n)} overflow: ${resourceString(limit)}`);
      return null;
    }
    const busy = nfitRes.requests.find((req) => req.start === start);
    if (busy !== undefined) {
      this.#log.warn(true, `tools/testing/nvdimm/test/iomap.c:${fn}`, `${resourceString(busy)} already busy`);
      return null;
    }
    const res = new Resource({
      name,
      start,
      end: start + n - 1,
      flags: (parent.flags & IORESOURCE_TYPE_BITS) | IORESOURCE_BUSY | flags,
    });
    nfitRes.requests.unshift(res);
    if (dev !== null) {
      try {
        devmAddAction(this.#log, dev, nfitDevresRelease, { wrap: this, res });
      } catch (e) {
        nfitRes.requests.splice(nfitRes.requests.indexOf(res), 1);
        throw e;
      }
    }
    this.#live++;
    this.#log.debug(`${fn}: ${resourceString(res)}`);
    return res;
  }

  /**
   * nfit_test_release_region() for an iomem release without a device: false when `start` is not in a test
   * resource (the real __release_region runs); else drops the first request starting at `start`, with a WARN
   * when there is none or its size is not `n` (it is dropped all the same).
   */
  releaseRegion(start: number, n: number): boolean {
    const nfitRes = this.getNfitRes(start);
    if (nfitRes === null) return false;
    const i = nfitRes.requests.findIndex((req) => req.start === start);
    const res = i < 0 ? null : nfitRes.requests.splice(i, 1)[0]!;
    if (res !== null) this.#live--;
    this.#log.warn(
      res === null || resourceSize(res) !== n,
      'tools/testing/nvdimm/test/iomap.c:nfit_test_release_region',
      `nfit_test_release_region: start: ${hex(start)} n: ${hex(n)} mismatch: ${resourceString(res)}`,
    );
    return true;
  }

  /** Requests recorded on test resources and not yet released, for leak checks. */
  get liveRequests(): number {
    return this.#live;
  }

  /** __wrap___devm_release_region(): releases `dev`'s devm request of [start, start+n) on a test resource. */
  devmRelease(dev: Device, start: number, n: number): Promise<boolean> {
    return devresRelease(
      dev,
      nfitDevresRelease,
      (d) => d.wrap === this && d.res.start === start && resourceSize(d.res) === n,
    );
  }

  /** nfit_devres_release(): releases a devm request; WARN_ON when its test resource is gone. */
  devresRelease(res: Resource): void {
    this.#log.warn(
      !this.releaseRegion(res.start, resourceSize(res)),
      'tools/testing/nvdimm/test/iomap.c:nfit_devres_release',
      'WARN_ON(!nfit_test_release_region(NULL, &iomem_resource, res->start, resource_size(res)))',
    );
  }
}

/** %llx. */
function hex(v: number): string {
  return Number.isSafeInteger(v) ? BigInt.asUintN(64, BigInt(v)).toString(16) : String(v);
}
