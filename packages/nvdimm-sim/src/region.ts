/**
 * drivers/nvdimm/region.c: the nd_region driver. Probe finds the region's namespaces (one namespace_io for a
 * label-less region; one namespace_pmem per complete label set, or an idle seed), loads the region's badblocks and
 * creates the pfn and dax seeds; remove unregisters every child.
 */
import { Badblocks, type Device, kerr, type Module, Resource } from '@daxsim/kernel';
import { badblocksPopulate } from './badrange.js';
import type { Libnvdimm } from './libnvdimm.js';
import { createNamespaceIo, scanLabels } from './namespace_devs.js';
import {
  ND_DRIVER_REGION_PMEM,
  type NdDeviceDriver,
  type NdNamespace,
  NdNamespacePmem,
  type NdRegion,
  NVDIMM_REVALIDATE_POISON,
} from './nd.js';

/**
 * nd_region_create_ns_seed(): an idle, zero-sized namespace_pmem userspace can configure. Failing to allocate
 * one is not fatal: the region is left without a seed.
 */
export function ndRegionCreateNsSeed(nd: Libnvdimm, region: NdRegion): void {
  if (!region.labelled) return;
  let id: number;
  try {
    if (nd.kernel.faultInject.should('nd_namespace_pmem_create'))
      throw kerr('ENOMEM', 'nd_namespace_pmem_create');
    id = region.nsIda.simpleGet(0, 0);
  } catch {
    region.nsSeed = null;
    nd.core.devErr(region.dev, 'failed to create pmem namespace');
    return;
  }
  const ns = new NdNamespacePmem(
    region,
    id,
    new Resource({ start: region.ndrStart, end: region.ndrStart - 1 }),
  );
  nd.registerNamespace(ns);
  region.nsSeed = ns.dev;
}

/** nvdimm_badblocks_populate() for the whole region, from scratch. */
function regionBadblocksPopulate(region: NdRegion): void {
  const bb = new Badblocks();
  badblocksPopulate(region.bus.badrange, bb, region.ndrStart, region.ndrSize);
  region.bb = bb;
}

/** nd_region_probe(). ENXIO when a DIMM of the region is not enabled. */
async function ndRegionProbe(nd: Libnvdimm, dev: Device): Promise<void> {
  const region = nd.toNdRegion(dev);
  for (const m of region.mappings)
    if (m.nvdimm.ndd === null) {
      nd.core.devErr(dev, `${m.nvdimm.dev.name}: is disabled, failing probe`);
      throw kerr('ENXIO', 'nd_region_probe');
    }
  if (nd.kernel.faultInject.should('badblocks_init')) throw kerr('ENODEV', 'nd_region_probe');
  regionBadblocksPopulate(region);
  let namespaces: NdNamespace[];
  if (!region.labelled) namespaces = [createNamespaceIo(region)];
  else namespaces = scanLabels(nd, region);
  for (const ns of namespaces) nd.registerNamespace(ns);
  if (namespaces.length === 0) nd.ndRegionCreateNsSeed(region);
  else region.nsSeed = namespaces[0]!.dev;
  // nd_region_register_namespaces() counts the zero-sized seed it publishes for a region without labels
  const found = Math.max(namespaces.length, region.nsSeed === null ? 0 : 1);
  nd.regionProbeCounts.set(region, { active: found, count: found });
  region.pfnSeed = nd.ndPfnCreate(region, false);
  region.daxSeed = nd.ndPfnCreate(region, true);
}

/** nd_region_remove(): every child unregistered, the seeds and badblocks dropped. */
async function ndRegionRemove(nd: Libnvdimm, dev: Device): Promise<void> {
  const region = nd.toNdRegion(dev);
  await nd.ndSynchronize();
  const children: Device[] = [];
  nd.core.deviceForEachChild(dev, (child) => {
    children.push(child);
  });
  for (const child of children) await nd.ndBus.ndDeviceUnregisterSync(child);
  region.nsSeed = null;
  region.pfnSeed = null;
  region.daxSeed = null;
  region.bb = null;
  nd.regionProbeCounts.delete(region);
}

/** nd_region_notify(): NVDIMM_REVALIDATE_POISON reloads the region's badblocks. */
function ndRegionNotify(nd: Libnvdimm, dev: Device, event: number): void {
  if (event !== NVDIMM_REVALIDATE_POISON) return;
  regionBadblocksPopulate(nd.toNdRegion(dev));
}

export function ndRegionDriver(nd: Libnvdimm, owner: Module): NdDeviceDriver {
  return {
    drv: { name: 'nd_region', bus: nd.ndBus.busType, owner },
    type: ND_DRIVER_REGION_PMEM,
    probe: (dev) => ndRegionProbe(nd, dev),
    remove: (dev) => ndRegionRemove(nd, dev),
    notify: (dev, event) => ndRegionNotify(nd, dev, event),
  };
}
