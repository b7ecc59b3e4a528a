/**
 * drivers/nvdimm/namespace_devs.c: namespace devices (label-less namespace_io and labelled namespace_pmem),
 * their sysfs attributes and store rules, DPA allocation through `size`, label updates, the scan of labels that
 * finds a region's namespaces at probe, and nvdimm_namespace_disk_name().
 */
import { type AttributeGroup, type Device, kerr, Resource } from '@daxsim/kernel';
import { ndNamespaceLabelUpdate } from './label_update.js';
import type { Libnvdimm } from './libnvdimm.js';
import {
  isNamespacePmem,
  kstrtobool,
  ND_DEVICE_NAMESPACE_IO,
  ND_DEVICE_NAMESPACE_PMEM,
  type NdNamespace,
  NdNamespaceIo,
  NdNamespacePmem,
  type NdRegion,
  namespaceIoDeviceType,
  parseUuid,
  uuidToString,
} from './nd.js';
import { freeExtents, ndRegionAvailableDpa } from './region_devs.js';

const SZ_4K = 4096;
/** NSLABEL_NAME_LEN. */
const NSLABEL_NAME_LEN = 64;

/** nd_namespace_pmem_set_resource(): the SPA range of `size` bytes at the namespace's DPA offset. */
export function ndNamespacePmemSetResource(region: NdRegion, ns: NdNamespacePmem, size: number): void {
  const start =
    size === 0 || ns.dpaOffset === null
      ? region.ndrStart
      : region.ndrStart + ns.dpaOffset * region.mappings.length;
  ns.res = new Resource({ name: ns.dev.name, start, end: start + size - 1 });
  if (size === 0) ns.dpaOffset = null;
}

/** nvdimm_namespace_capacity(). */
export const nvdimmNamespaceCapacity = (ns: NdNamespace): number => ns.size;

/** nvdimm_namespace_disk_name(): "pmem<region>" or "pmem<region>.<id>" for namespace ids other than 0. */
export function nvdimmNamespaceDiskName(ns: NdNamespace): string {
  const id = ns instanceof NdNamespacePmem ? ns.id : 0;
  return id !== 0 ? `pmem${ns.region.id}.${id}` : `pmem${ns.region.id}`;
}

function modeShow(ns: NdNamespace): string {
  if (ns.claim === null) return 'raw\n';
  return ns.claim.dax ? 'dax\n' : 'memory\n';
}

/** is_uuid_busy(): another namespace or claim device of the bus already uses `uuid`. */
function uuidBusy(nd: Libnvdimm, self: Device, uuid: Uint8Array): boolean {
  const u = uuidToString(uuid);
  for (const ns of nd.allNamespaces())
    if (ns.dev !== self && ns instanceof NdNamespacePmem && ns.uuid !== null && uuidToString(ns.uuid) === u)
      return true;
  for (const pfn of nd.allPfns())
    if (pfn.dev !== self && pfn.uuid !== null && uuidToString(pfn.uuid) === u) return true;
  return false;
}

/** nd_namespace_label_update() after a store changed `ns`; when the labels cannot be written, `undo` puts it back. */
function labelUpdateOrUndo(nd: Libnvdimm, ns: NdNamespacePmem, undo: () => void): void {
  try {
    ndNamespaceLabelUpdate(nd, ns);
  } catch (e) {
    undo();
    throw e;
  }
}

/**
 * __size_store(): grows or shrinks the namespace's DPA allocation. EBUSY while bound or claimed, ENXIO without a
 * uuid or with a DIMM disabled, EINVAL unless a multiple of 4K per mapping, ENOSPC beyond what is free.
 */
async function sizeStore(nd: Libnvdimm, ns: NdNamespacePmem, value: string): Promise<void> {
  const val = parseSize(value, 'size_store');
  const region = ns.region;
  const ways = region.mappings.length;
  if (ns.dev.driver !== null || ns.claim !== null) throw kerr('EBUSY', 'size_store');
  if (ns.uuid === null || ways === 0) throw kerr('ENXIO', 'size_store');
  if (val % (SZ_4K * ways) !== 0) {
    nd.core.devDbg(ns.dev, `${val} is not ${(SZ_4K * ways) / 1024}K aligned`);
    throw kerr('EINVAL', 'size_store');
  }
  if (region.mappings.some((m) => m.nvdimm.ndd === null)) throw kerr('ENXIO', 'size_store');
  const allocated = ns.size;
  if (val > ndRegionAvailableDpa(nd, region) + allocated) throw kerr('ENOSPC', 'size_store');
  if (val === allocated) {
    // size_store(): writing 0 is 'delete namespace' and drops the uuid even when nothing was allocated.
    if (val === 0) ns.uuid = null;
    return;
  }
  const before = { offset: ns.dpaOffset, size: allocated };
  if (val === 0) {
    ndNamespacePmemSetResource(region, ns, 0);
  } else {
    const per = val / ways;
    let offset = ns.dpaOffset;
    if (offset === null) {
      const fit = freeExtents(nd, region).find(([s, e]) => e - s >= per);
      if (fit === undefined) throw kerr('ENOSPC', 'size_store');
      offset = fit[0];
    } else if (val > allocated) {
      const end = offset + allocated / ways;
      const next = freeExtents(nd, region).find(([s]) => s === end);
      if (next === undefined || next[1] - offset < per) throw kerr('ENOSPC', 'size_store');
    }
    ns.dpaOffset = offset;
    ndNamespacePmemSetResource(region, ns, val);
  }
  labelUpdateOrUndo(nd, ns, () => {
    ns.dpaOffset = before.offset;
    ndNamespacePmemSetResource(region, ns, before.size);
  });
  if (val === 0) {
    ns.uuid = null;
    if (ns.id !== 0 && region.nsSeed !== ns.dev && ns.claim === null)
      nd.ndBus.ndDeviceUnregisterAsync(ns.dev);
  }
}

/** memparse()-free kstrtoull for sizes; EINVAL for anything else. */
export function parseSize(value: string, op: string): number {
  const v = value.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) throw kerr('EINVAL', op);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw kerr('ERANGE', op);
  return n;
}

/**
 * uuid_store() / namespace_update_uuid(): EBUSY while bound or claimed; EINVAL when malformed or when another
 * namespace or claim device of the bus has the uuid (nd_is_uuid_unique()).
 */
function uuidStore(nd: Libnvdimm, ns: NdNamespacePmem, value: string): void {
  if (ns.dev.driver !== null || ns.claim !== null) throw kerr('EBUSY', 'uuid_store');
  const uuid = parseUuid(value);
  if (uuid === null) throw kerr('EINVAL', 'uuid_store');
  if (uuidBusy(nd, ns.dev, uuid)) throw kerr('EINVAL', 'uuid_store');
  const old = ns.uuid;
  ns.uuid = uuid;
  if (ns.size > 0)
    labelUpdateOrUndo(nd, ns, () => {
      ns.uuid = old;
    });
}

/** alt_name_store(): at most 63 bytes; EBUSY while bound or claimed. */
function altNameStore(nd: Libnvdimm, ns: NdNamespacePmem, value: string): void {
  if (ns.dev.driver !== null || ns.claim !== null) throw kerr('EBUSY', 'alt_name_store');
  const name = value.replace(/\n$/, '');
  if (Buffer.byteLength(name) >= NSLABEL_NAME_LEN) throw kerr('EINVAL', 'alt_name_store');
  const old = ns.altName;
  ns.altName = name;
  if (ns.size > 0)
    labelUpdateOrUndo(nd, ns, () => {
      ns.altName = old;
    });
}

/** The attributes of namespace_io and namespace_pmem devices (nd_namespace_attribute_group). */
export function ndNamespaceAttributeGroups(nd: Libnvdimm): AttributeGroup[] {
  const n = (dev: Device): NdNamespace => nd.toNdNamespace(dev);
  const pmem = (dev: Device, op: string): NdNamespacePmem => {
    const ns = n(dev);
    if (!(ns instanceof NdNamespacePmem)) throw kerr('ENXIO', op);
    return ns;
  };
  return [
    {
      attrs: [
        {
          name: 'nstype',
          mode: 0o444,
          show: (dev) => `${isNamespacePmem(dev) ? ND_DEVICE_NAMESPACE_PMEM : ND_DEVICE_NAMESPACE_IO}\n`,
        },
        {
          name: 'size',
          mode: 0o644,
          show: (dev) => `${nvdimmNamespaceCapacity(n(dev))}\n`,
          store: (dev, value) => sizeStore(nd, pmem(dev, 'size_store'), value),
        },
        {
          name: 'uuid',
          mode: 0o644,
          show: (dev) => {
            const ns = pmem(dev, 'uuid_show');
            return ns.uuid === null ? '\n' : `${uuidToString(ns.uuid)}\n`;
          },
          store: (dev, value) => uuidStore(nd, pmem(dev, 'uuid_store'), value),
        },
        {
          name: 'alt_name',
          mode: 0o644,
          show: (dev) => `${pmem(dev, 'alt_name_show').altName}\n`,
          store: (dev, value) => altNameStore(nd, pmem(dev, 'alt_name_store'), value),
        },
        { name: 'mode', mode: 0o444, show: (dev) => modeShow(n(dev)) },
        { name: 'holder', mode: 0o444, show: (dev) => `${n(dev).claim?.dev.name ?? ''}\n` },
        {
          name: 'resource',
          mode: 0o400,
          show: (dev) => {
            const ns = n(dev);
            if (ns.size === 0) throw kerr('ENXIO', 'resource_show');
            return `0x${ns.res.start.toString(16)}\n`;
          },
        },
        {
          name: 'force_raw',
          mode: 0o644,
          show: (dev) => `${n(dev).forceRaw ? 1 : 0}\n`,
          store: (dev, value) => {
            const raw = kstrtobool(value);
            if (raw === null) throw kerr('EINVAL', 'force_raw_store');
            n(dev).forceRaw = raw;
          },
        },
        { name: 'numa_node', mode: 0o444, show: (dev) => `${n(dev).region.numaNode}\n` },
      ],
      isVisible: (dev, attr) =>
        (attr.name === 'uuid' || attr.name === 'alt_name') && !isNamespacePmem(dev)
          ? 0
          : attr.name === 'size' && !isNamespacePmem(dev)
            ? 0o444
            : attr.mode,
    },
  ];
}

/** create_namespace_io(): the one namespace of a label-less region, covering all of it. */
export function createNamespaceIo(region: NdRegion): NdNamespaceIo {
  const res = new Resource({
    name: `namespace${region.id}.0`,
    start: region.ndrStart,
    end: region.ndrStart + region.ndrSize - 1,
  });
  return new NdNamespaceIo(region, `namespace${region.id}.0`, namespaceIoDeviceType, res);
}

/**
 * create_namespace_pmems() over the labels the region's DIMMs hold: one namespace per uuid whose labels form a
 * complete set for this interleave set (nlabel == ways, every position present once, same DPA offset in each
 * mapping, matching isetcookie). Labels that do not form a set are reported and skipped.
 */
export function scanLabels(nd: Libnvdimm, region: NdRegion): NdNamespacePmem[] {
  const ways = region.mappings.length;
  const sets = new Map<
    string,
    Array<{ mapping: number; slot: number; label: import('./label.js').NamespaceLabel }>
  >();
  region.mappings.forEach((m, mi) => {
    const area = m.nvdimm.ndd?.labels;
    if (area === null || area === undefined) return;
    for (const { slot, label } of nd.activeLabels(area)) {
      if (label.isetcookie !== region.interleaveCookie) continue;
      if (label.dpa < m.start || label.dpa + label.rawsize > m.start + m.size) continue;
      const key = uuidToString(label.uuid);
      const list = sets.get(key) ?? [];
      list.push({ mapping: mi, slot, label });
      sets.set(key, list);
    }
  });
  const complete: Array<{
    label: import('./label.js').NamespaceLabel;
    offset: number;
    slots: Array<number | null>;
  }> = [];
  for (const [key, list] of sets) {
    const first = list[0]!.label;
    const offset = first.dpa - region.mappings[list[0]!.mapping]!.start;
    const ok =
      list.length === ways &&
      new Set(list.map((e) => e.mapping)).size === ways &&
      list.every(
        (e) =>
          e.label.nlabel === ways &&
          e.label.position === e.mapping &&
          e.label.rawsize === first.rawsize &&
          e.label.dpa - region.mappings[e.mapping]!.start === offset,
      );
    if (!ok) {
      nd.core.devErr(region.dev, `${key}: incomplete or inconsistent label set, skipping`);
      continue;
    }
    complete.push({
      label: first,
      offset,
      slots: region.mappings.map((_, mi) => list.find((e) => e.mapping === mi)?.slot ?? null),
    });
  }
  // create_namespace_pmem() per complete set; an allocation failing (ENOMEM) makes scan_labels() release
  // the namespaces made so far and create_namespaces() fail the region's probe with ENODEV
  const made: NdNamespacePmem[] = [];
  try {
    for (const { label, offset, slots } of complete.sort((a, b) => a.offset - b.offset)) {
      if (nd.kernel.faultInject.should('create_namespace_pmem'))
        throw kerr('ENOMEM', 'create_namespace_pmem');
      const ns = new NdNamespacePmem(
        region,
        region.nsIda.simpleGet(0, 0),
        new Resource({ start: 0, end: -1 }),
      );
      made.push(ns);
      ns.uuid = label.uuid;
      ns.altName = label.name;
      ns.lbasize = label.lbasize;
      ns.dpaOffset = offset;
      ns.labelSlots = slots;
      ndNamespacePmemSetResource(region, ns, label.rawsize * ways);
    }
  } catch {
    for (const ns of made) region.nsIda.simpleRemove(ns.id);
    throw kerr('ENODEV', 'nd_region_register_namespaces');
  }
  return made;
}
