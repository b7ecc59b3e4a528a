/**
 * drivers/nvdimm/region_devs.c: regionN devices (nvdimm_pmem_region_create), their sysfs attributes, DPA
 * accounting (available_size), the idle seeds userspace configures, and nd_region_notify_driver_action().
 */
import { type AttributeGroup, type Device, kerr } from '@daxsim/kernel';
import type { Libnvdimm } from './libnvdimm.js';
import {
  kstrtobool,
  ND_DEVICE_NAMESPACE_IO,
  ND_DEVICE_NAMESPACE_PMEM,
  NdNamespacePmem,
  type NdRegion,
} from './nd.js';

/** The extents, relative to each mapping's start, that the region's namespaces hold: [offset, end). */
export function allocatedExtents(nd: Libnvdimm, region: NdRegion): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const ns of nd.namespacesOf(region))
    if (ns instanceof NdNamespacePmem && ns.dpaOffset !== null && ns.size > 0)
      out.push([ns.dpaOffset, ns.dpaOffset + ns.size / region.mappings.length]);
  return out.sort((a, b) => a[0] - b[0]);
}

/** Free extents of one mapping's DPA space, relative to its start, in address order. */
export function freeExtents(nd: Libnvdimm, region: NdRegion): Array<[number, number]> {
  const perMapping = region.mappings[0]?.size ?? 0;
  const free: Array<[number, number]> = [];
  let at = 0;
  for (const [s, e] of allocatedExtents(nd, region)) {
    if (s > at) free.push([at, s]);
    at = Math.max(at, e);
  }
  if (perMapping > at) free.push([at, perMapping]);
  return free;
}

/**
 * nd_region_available_dpa(): bytes of the region no namespace holds; 0 while a DIMM of the region is disabled.
 * Label-less regions have none (their one namespace covers them).
 */
export function ndRegionAvailableDpa(nd: Libnvdimm, region: NdRegion): number {
  if (!region.labelled) return 0;
  if (region.mappings.some((m) => m.nvdimm.ndd === null)) return 0;
  return freeExtents(nd, region).reduce((n, [s, e]) => n + (e - s), 0) * region.mappings.length;
}

/** nd_region_to_nstype(). */
export function ndRegionToNstype(region: NdRegion): number {
  return region.labelled ? ND_DEVICE_NAMESPACE_PMEM : ND_DEVICE_NAMESPACE_IO;
}

/** nd_region->nd_set: the provider describes an interleave set (and its cookie) for a region with DIMMs. */
const hasInterleaveSet = (region: NdRegion): boolean => region.mappings.length > 0;

const seedShow = (seed: Device | null): string => (seed === null ? '\n' : `${seed.name}\n`);

/** nd_region_attribute_group (visibility as region_visible) and nd_mapping_attribute_group. */
export function ndRegionAttributeGroups(nd: Libnvdimm): AttributeGroup[] {
  const r = (dev: Device): NdRegion => nd.toNdRegion(dev);
  const mappingAttrs = Array.from({ length: 32 }, (_, i) => ({
    name: `mapping${i}`,
    mode: 0o444,
    show: (dev: Device) => {
      const m = r(dev).mappings[i];
      if (m === undefined) throw kerr('ENXIO', `mapping${i}`);
      return `${m.nvdimm.dev.name},${m.start},${m.size},${m.position}\n`;
    },
  }));
  return [
    {
      attrs: [
        { name: 'size', mode: 0o444, show: (dev) => `${r(dev).ndrSize}\n` },
        { name: 'available_size', mode: 0o444, show: (dev) => `${ndRegionAvailableDpa(nd, r(dev))}\n` },
        { name: 'mappings', mode: 0o444, show: (dev) => `${r(dev).mappings.length}\n` },
        { name: 'nstype', mode: 0o444, show: (dev) => `${ndRegionToNstype(r(dev))}\n` },
        {
          name: 'set_cookie',
          mode: 0o444,
          show: (dev) => {
            const region = r(dev);
            if (!hasInterleaveSet(region)) throw kerr('ENXIO', 'set_cookie');
            const cookie = region.interleaveCookie;
            return `${cookie === 0n ? '0' : `0x${cookie.toString(16)}`}\n`;
          },
        },
        { name: 'resource', mode: 0o400, show: (dev) => `0x${r(dev).ndrStart.toString(16)}\n` },
        { name: 'numa_node', mode: 0o444, show: (dev) => `${r(dev).numaNode}\n` },
        {
          name: 'read_only',
          mode: 0o644,
          show: (dev) => `${r(dev).ro ? 1 : 0}\n`,
          store: (dev, value) => {
            const ro = kstrtobool(value);
            if (ro === null) throw kerr('EINVAL', 'read_only_store');
            r(dev).ro = ro;
          },
        },
        { name: 'namespace_seed', mode: 0o444, show: (dev) => seedShow(r(dev).nsSeed) },
        { name: 'pfn_seed', mode: 0o444, show: (dev) => seedShow(r(dev).pfnSeed) },
        { name: 'dax_seed', mode: 0o444, show: (dev) => seedShow(r(dev).daxSeed) },
        {
          name: 'init_namespaces',
          mode: 0o444,
          show: (dev) => {
            const counts = nd.regionProbeCounts.get(r(dev));
            if (counts === undefined) throw kerr('ENXIO', 'init_namespaces');
            return `${counts.active}/${counts.count}\n`;
          },
        },
        { name: 'badblocks', mode: 0o444, show: (dev) => r(dev).bb?.show(false) ?? '' },
        ...mappingAttrs,
      ],
      isVisible: (dev, attr) => {
        const region = r(dev);
        const m = /^mapping(\d+)$/.exec(attr.name);
        if (m !== null) return Number(m[1]) < region.mappings.length ? attr.mode : 0;
        if (attr.name === 'available_size' && ndRegionToNstype(region) === ND_DEVICE_NAMESPACE_PMEM)
          return attr.mode;
        if (attr.name === 'available_size' || attr.name === 'set_cookie')
          return hasInterleaveSet(region) ? attr.mode : 0;
        return attr.mode;
      },
    },
  ];
}

/**
 * nd_region_notify_driver_action(): a seed that bound successfully is no longer idle, so the region makes a new
 * one of its kind; a claim device that bound also retires the namespace seed it consumed. A seed that cannot be
 * created is only reported (nd_region_create_{pfn,dax}_seed()).
 */
export function ndRegionNotifyDriverAction(nd: Libnvdimm, dev: Device, probe: boolean): void {
  if (!probe) return;
  const parent = dev.parent;
  if (parent === null || !nd.isRegionDevice(parent)) return;
  const region = nd.toNdRegion(parent);
  if (region.nsSeed === dev) nd.ndRegionCreateNsSeed(region);
  if (!nd.isClaimDevice(dev)) return;
  const pfn = nd.toNdPfn(dev);
  if (region.pfnSeed === dev) {
    region.pfnSeed = nd.ndPfnCreate(region, false);
    if (region.pfnSeed === null) nd.core.devErr(region.dev, 'failed to create pfn namespace');
  }
  if (region.daxSeed === dev) {
    region.daxSeed = nd.ndPfnCreate(region, true);
    if (region.daxSeed === null) nd.core.devErr(region.dev, 'failed to create dax namespace');
  }
  if (pfn.ndns !== null && region.nsSeed === pfn.ndns.dev) nd.ndRegionCreateNsSeed(region);
}
