/**
 * drivers/nvdimm/label.c, the namespace side: the active labels of a DIMM, and nd_pmem_namespace_label_update(),
 * which writes (or, at size 0, deletes) a namespace's label on every DIMM of its interleave set.
 */
import { kerr } from '@daxsim/kernel';
import type { LabelArea, NamespaceLabel } from './label.js';
import type { Libnvdimm } from './libnvdimm.js';
import type { NdNamespacePmem } from './nd.js';

/** The labels of the current index, with their slots; none when the area has no valid index. */
export function activeLabels(area: LabelArea): Array<{ slot: number; label: NamespaceLabel }> {
  if (area.current < 0) return [];
  return area.labels().map((label) => ({ slot: label.slot, label }));
}

/**
 * nd_pmem_namespace_label_update(): for each mapping, a new label in a free slot replaces the old one in one
 * index update (a torn update keeps the old set); size 0 deletes the labels. A DIMM without a valid index is
 * initialized first (init_labels). ENXIO when a DIMM has no label area.
 */
export function ndNamespaceLabelUpdate(nd: Libnvdimm, ns: NdNamespacePmem): void {
  const region = ns.region;
  const ways = region.mappings.length;
  region.mappings.forEach((m, i) => {
    const area = m.nvdimm.ndd?.labels;
    if (area === null || area === undefined) throw kerr('ENXIO', 'nd_pmem_namespace_label_update');
    const old = ns.labelSlots[i] ?? null;
    if (area.current < 0) area.init();
    if (ns.size === 0 || ns.uuid === null) {
      if (old !== null) area.update({ add: [], remove: [old] });
      ns.labelSlots[i] = null;
      return;
    }
    const label: NamespaceLabel = {
      uuid: ns.uuid,
      name: ns.altName,
      flags: 0,
      nlabel: ways,
      position: i,
      isetcookie: region.interleaveCookie,
      lbasize: ns.lbasize,
      dpa: m.start + (ns.dpaOffset ?? 0),
      rawsize: ns.size / ways,
      slot: 0,
    };
    const [slot] = area.update({ add: [label], remove: old === null ? [] : [old] });
    ns.labelSlots[i] = slot ?? null;
  });
  nd.core.devDbg(ns.dev, `label update: ${ns.size === 0 ? 'deleted' : `${ns.size} bytes`}`);
}
