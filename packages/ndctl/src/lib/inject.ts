/**
 * ndctl/lib/inject.c: media-error injection on a namespace through the NFIT bus's ARS error-injection
 * functions, in 512-byte blocks relative to the namespace's data (the pfn/dax data area in fsdax/devdax mode,
 * the whole namespace when raw), and the injected list read back as namespace badblocks.
 */
import { ND_ARS_ERR_INJ_OPT_NOTIFY, type NdCmdArsCap, type NdCmdPkg } from '@daxsim/nvdimm-sim';
import {
  ND_ARS_ERR_INJ_STATUS_INVALID_PARAM,
  ND_ARS_ERR_INJ_STATUS_NOT_SUPP,
  type NdctlCmd,
  ndctlBusCmdNewArsCap,
  ndctlBusCmdNewErrInj,
  ndctlBusCmdNewErrInjClr,
  ndctlBusCmdNewErrInjStat,
  ndctlBusHasErrorInjection,
  ndctlCmdArsCapGetClearUnit,
  ndctlCmdArsCapGetSize,
  ndctlCmdSubmit,
} from './ioctl.js';
import type { NdBus, NdNamespace } from './libndctl.js';
import { type NdConfigCtx, neg } from './namespace_config.js';

/** enum ndctl_namespace_inject_flags: bit numbers of inject_error2()'s flags. */
export const NDCTL_NS_INJECT_NOTIFY = 0;
export const NDCTL_NS_INJECT_SATURATE = 1;

/** struct ndctl_bb: a run of bad blocks of a namespace. */
export interface NdctlBb {
  block: number;
  count: number;
}

/**
 * ndctl_namespace_get_injection_bounds(): the SPA range injection offsets are relative to — the claim's
 * data area (pfn or dax), or the namespace itself when raw; -EOPNOTSUPP for a btt; -ENXIO while the range
 * cannot be read (a disabled claim device).
 */
function injectionBounds(ns: NdNamespace): { offset: number; size: number } | number {
  const pfn = ns.pfn();
  const dax = ns.dax();
  const claim = pfn ?? dax;
  if (claim !== null) {
    if (claim.resource === null || claim.size === null) return neg('ENXIO');
    return { offset: claim.resource, size: claim.size };
  }
  if (ns.btt() !== null) return neg('EOPNOTSUPP');
  if (ns.resource === null) return neg('ENXIO');
  return { offset: ns.resource, size: ns.size };
}

/** block_to_spa_offset(): one block's SPA range; -EINVAL outside the namespace. */
function blockToSpaOffset(
  ns: NdNamespace,
  block: number,
  count: number,
): { offset: number; length: number } | number {
  const b = injectionBounds(ns);
  if (typeof b === 'number') return b;
  const offset = b.offset + block * 512;
  const length = count * 512;
  if (offset + length > b.offset + b.size) return neg('EINVAL');
  return { offset, length };
}

/**
 * The ars_cap over the namespace's injection bounds that get_clear_unit() and injection_status() begin with,
 * submitted: the bounds and the command, or a negative errno (a command that cannot be made is logged as `fn`).
 */
function submitArsCap(
  nd: NdConfigCtx,
  ns: NdNamespace,
  fn: string,
): { bounds: { offset: number; size: number }; cap: NdctlCmd<NdCmdArsCap> } | number {
  const bounds = injectionBounds(ns);
  if (typeof bounds === 'number') return bounds;
  const cap = ndctlBusCmdNewArsCap(ns.region.bus, bounds.offset, bounds.size);
  if (cap === null) {
    nd.err(fn, `${ns.devname}: failed to create cmd\n`);
    return neg('ENOTTY');
  }
  const rc = ndctlCmdSubmit(nd, cap);
  return rc < 0 ? rc : { bounds, cap };
}

/** ndctl_namespace_get_clear_unit(): the bus's clear_err_unit over the namespace, via ars_cap. */
function clearUnit(nd: NdConfigCtx, ns: NdNamespace): number {
  const r = submitArsCap(nd, ns, 'ndctl_namespace_get_clear_unit');
  if (typeof r === 'number') return r;
  const unit = ndctlCmdArsCapGetClearUnit(r.cap);
  return unit === 0 ? neg('EINVAL') : unit;
}

/** translate_status(). */
function translateStatus(status: number): number {
  if (status === ND_ARS_ERR_INJ_STATUS_NOT_SUPP) return neg('EOPNOTSUPP');
  if (status === ND_ARS_ERR_INJ_STATUS_INVALID_PARAM) return neg('EINVAL');
  return 0;
}

/** The SPA range one block's (un)injection covers: clear_err_unit bytes unless saturating the whole block. */
function oneBlock(nd: NdConfigCtx, ns: NdNamespace, block: number, flags: number) {
  const r = blockToSpaOffset(ns, block, 1);
  if (typeof r === 'number') return r;
  const unit = clearUnit(nd, ns);
  if (unit < 0) return unit;
  const length = flags & (1 << NDCTL_NS_INJECT_SATURATE) ? r.length : Math.min(r.length, unit);
  return { offset: r.offset, length };
}

/**
 * One block's (un)injection: the package `make` builds for the bus, its range filled in by `fill`, submitted;
 * the ioctl's error, else the firmware status translated.
 */
function submitOneBlock<P extends { status: number }>(
  nd: NdConfigCtx,
  ns: NdNamespace,
  block: number,
  flags: number,
  make: (bus: NdBus) => NdctlCmd<NdCmdPkg<P>>,
  fill: (payload: P, offset: number, length: number) => void,
): number {
  const r = oneBlock(nd, ns, block, flags);
  if (typeof r === 'number') return r;
  const cmd = make(ns.region.bus);
  fill(cmd.buf.ndPayload, r.offset, r.length);
  const rc = ndctlCmdSubmit(nd, cmd);
  return rc < 0 ? rc : translateStatus(cmd.buf.ndPayload.status);
}

/** ndctl_namespace_inject_one_error(): NFIT_CMD_ARS_INJECT_SET, with notification when asked. */
function injectOne(nd: NdConfigCtx, ns: NdNamespace, block: number, flags: number): number {
  return submitOneBlock(nd, ns, block, flags, ndctlBusCmdNewErrInj, (p, offset, length) => {
    p.errInjSpaRangeBase = offset;
    p.errInjSpaRangeLength = length;
    if (flags & (1 << NDCTL_NS_INJECT_NOTIFY)) p.errInjOptions |= 1 << ND_ARS_ERR_INJ_OPT_NOTIFY;
  });
}

/** ndctl_namespace_uninject_one_error(): NFIT_CMD_ARS_INJECT_CLEAR. */
function uninjectOne(nd: NdConfigCtx, ns: NdNamespace, block: number, flags: number): number {
  return submitOneBlock(nd, ns, block, flags, ndctlBusCmdNewErrInjClr, (p, offset, length) => {
    p.errInjClrSpaRangeBase = offset;
    p.errInjClrSpaRangeLength = length;
  });
}

/**
 * The loop of inject_error2() and uninject_error2(): `one` on each of `count` blocks from `block`; 0, or the
 * first failure (logged as `fn`'s "<what> failed at block <hex>"). -EOPNOTSUPP on a bus without error
 * injection; -EINVAL for a count of 0.
 */
function forEachBlock(
  nd: NdConfigCtx,
  ns: NdNamespace,
  block: number,
  count: number,
  flags: number,
  one: typeof injectOne,
  fn: string,
  what: string,
): number {
  if (!ndctlBusHasErrorInjection(ns.region.bus)) return neg('EOPNOTSUPP');
  let rc = neg('EINVAL');
  for (let i = 0; i < count; i++) {
    rc = one(nd, ns, block + i, flags);
    if (rc !== 0) {
      nd.err(fn, `${what} failed at block ${(block + i).toString(16)}\n`);
      return rc;
    }
  }
  return rc;
}

/**
 * ndctl_namespace_inject_error2(): injects an error into each of `count` blocks from `block` (each one
 * clear_err_unit long, or the whole block with NDCTL_NS_INJECT_SATURATE), as forEachBlock() returns.
 */
export function ndctlNamespaceInjectError2(
  nd: NdConfigCtx,
  ns: NdNamespace,
  block: number,
  count: number,
  flags: number,
): number {
  return forEachBlock(nd, ns, block, count, flags, injectOne, 'ndctl_namespace_inject_error2', 'Injection');
}

/** ndctl_namespace_uninject_error2(): as inject_error2, removing the blocks from the injected list. */
export function ndctlNamespaceUninjectError2(
  nd: NdConfigCtx,
  ns: NdNamespace,
  block: number,
  count: number,
  flags: number,
): number {
  const fn = 'ndctl_namespace_uninject_error2';
  return forEachBlock(nd, ns, block, count, flags, uninjectOne, fn, 'Un-injection');
}

/**
 * bb_add_record(): inserts a run keeping the list sorted by block, then merges overlapping and adjoining runs.
 */
export function bbAddRecord(list: NdctlBb[], block: number, count: number): void {
  let at = list.findIndex((bb) => block < bb.block);
  if (at < 0) at = list.length;
  list.splice(at, 0, { block, count });
  for (let i = 0; i + 1 < list.length; ) {
    const cur = list[i]!;
    const next = list[i + 1]!;
    const curEnd = cur.block + cur.count - 1;
    const nextEnd = next.block + next.count - 1;
    if (curEnd >= next.block || next.block === curEnd + 1) {
      if (nextEnd > curEnd) cur.count = nextEnd - cur.block + 1;
      list.splice(i + 1, 1);
    } else i++;
  }
}

/**
 * ndctl_namespace_injection_status(): the bus's injected list (via ars_cap's max_ars_out and
 * NFIT_CMD_ARS_INJECT_GET), keeping the ranges that start inside the namespace, as namespace blocks; or a
 * negative errno.
 */
export function ndctlNamespaceInjectionStatus(nd: NdConfigCtx, ns: NdNamespace): NdctlBb[] | number {
  const bus = ns.region.bus;
  if (!ndctlBusHasErrorInjection(bus)) return neg('EOPNOTSUPP');
  const r = submitArsCap(nd, ns, 'ndctl_namespace_injection_status');
  if (typeof r === 'number') return r;
  const b = r.bounds;
  const bufSize = ndctlCmdArsCapGetSize(r.cap);
  if (bufSize === 0) return neg('EINVAL');
  const stat = ndctlBusCmdNewErrInjStat(bus, bufSize);
  const rc = ndctlCmdSubmit(nd, stat);
  if (rc < 0) return rc;
  const out: NdctlBb[] = [];
  const p = stat.buf.ndPayload;
  for (const rec of p.record.slice(0, p.injErrRecCount)) {
    const off = rec.errInjStatSpaRangeBase;
    if (off < b.offset || off >= b.offset + b.size) continue;
    const nsOff = off - b.offset;
    const block = Math.floor(nsOff / 512);
    const pad = nsOff - block * 512;
    bbAddRecord(out, block, Math.ceil((pad + rec.errInjStatSpaRangeLength) / 512));
  }
  return out;
}
