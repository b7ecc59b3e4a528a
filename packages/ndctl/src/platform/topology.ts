/**
 * The machine a state folder models: nfit_test's two platforms by default, or a user's own description in
 * JSON, in the spirit of QEMU's `-object memory-backend-file ... -device nvdimm,label-size=...` options: DIMM
 * sizes, label sizes and interleave sets. Sizes may be numbers or strings with a k/m/g/t suffix ("32M").
 *
 * A description file holds one platform ({dimms, spas}) or several ({platforms: [...]}); each platform becomes
 * an nfit_test platform device (nfit_test.0, nfit_test.1, ... unless named). A range without a base is placed
 * after the previous one at a 1 GiB boundary, from 64 GiB up.
 */
import { kerr } from '@daxsim/kernel';
import type { NfitPlatform } from '@daxsim/nvdimm-sim';
import {
  describeNfitPlatform,
  type NfitPlatformDescription,
  type NfitTestPlatformSpec,
  nfitTestDefaultBase,
  nfitTestPlatforms,
  validateNfitPlatform,
} from '@daxsim/test-nvdimm';
import { parseSize64, SZ_1G } from '../util/size.js';

/** The name of the default topology. */
export const DEFAULT_TOPOLOGY = 'nfit_test';

function bad(what: string): never {
  throw kerr('EINVAL', `topology: ${what}`);
}

function size(v: unknown, at: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = parseSize64(v);
    if (n === null) bad(`${at}: "${v}" is not a size`);
    return n;
  }
  bad(`${at} must be a number or a size string`);
}

function obj(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${at} is not an object`);
  return v as Record<string, unknown>;
}

/** One platform's description with its size strings turned into numbers. */
function normalize(raw: unknown, at: string): NfitPlatformDescription & { name?: string } {
  const p = obj(raw, at);
  if (p.name !== undefined && (typeof p.name !== 'string' || !/^[\w.-]+$/.test(p.name)))
    bad(`${at}.name must be a plain name`);
  if (p.dimms !== undefined && !Array.isArray(p.dimms)) bad(`${at}.dimms must be an array`);
  if (!Array.isArray(p.spas)) bad(`${at}.spas must be an array`);
  const dimms = ((p.dimms as unknown[] | undefined) ?? []).map((d, i) => {
    const o = obj(d, `${at}.dimms[${i}]`);
    return {
      ...o,
      size: size(o.size, `${at}.dimms[${i}].size`),
      labelSize: size(o.labelSize, `${at}.dimms[${i}].labelSize`),
    };
  });
  const spas = (p.spas as unknown[]).map((s, i) => {
    const o = obj(s, `${at}.spas[${i}]`);
    if (o.interleave !== undefined && !Array.isArray(o.interleave))
      bad(`${at}.spas[${i}].interleave must be an array`);
    const interleave = (o.interleave as unknown[] | undefined)?.map((w, j) =>
      typeof w === 'number'
        ? w
        : {
            ...obj(w, `${at}.spas[${i}].interleave[${j}]`),
            dpa: size((w as Record<string, unknown>).dpa, `${at}.spas[${i}].interleave[${j}].dpa`),
            size: size((w as Record<string, unknown>).size, `${at}.spas[${i}].interleave[${j}].size`),
          },
    );
    return {
      ...o,
      base: size(o.base, `${at}.spas[${i}].base`),
      size: size(o.size, `${at}.spas[${i}].size`),
      interleave,
    };
  });
  return { ...p, dimms, spas } as unknown as NfitPlatformDescription & { name?: string };
}

/** The range size a description implies before bases are known (for placement). */
function impliedSize(spa: NfitPlatformDescription['spas'][number], dimmSizes: number[]): number {
  if (spa.size !== undefined) return spa.size;
  return (spa.interleave ?? []).reduce<number>((sum, w) => {
    if (typeof w === 'number') return sum + (dimmSizes[w] ?? 0);
    return sum + (w.size ?? dimmSizes[w.dimm] ?? 0);
  }, 0);
}

/**
 * Builds the platforms a description file's text stands for. EINVAL (naming the offending entry) for text that
 * is not JSON, a malformed or inconsistent description, or duplicate platform names.
 */
export function parseTopology(text: string): NfitTestPlatformSpec[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    bad(`not JSON (${(e as Error).message})`);
  }
  const top = obj(raw, 'description');
  const list = top.platforms === undefined ? [top] : top.platforms;
  if (!Array.isArray(list) || list.length === 0) bad('platforms must be a non-empty array');
  let cursor = nfitTestDefaultBase(0);
  const names = new Set<string>();
  return list.map((entry, i) => {
    const desc = normalize(entry, list === top.platforms ? `platforms[${i}]` : 'description');
    const name = desc.name ?? `nfit_test.${i}`;
    if (names.has(name)) bad(`platform name ${name} is used twice`);
    names.add(name);
    const dimmSizes = (desc.dimms ?? []).map((d) => d.size ?? 0);
    const spas = desc.spas.map((s) => {
      if (s.base !== undefined) return s;
      const base = Math.ceil(cursor / SZ_1G) * SZ_1G;
      cursor = base + impliedSize(s, dimmSizes);
      return { ...s, base };
    });
    const { name: _name, ...rest } = desc;
    const platform = describeNfitPlatform({ providerName: name, ...rest, spas });
    return { name, platform };
  });
}

/** nfit_test's own topology: nfit_test.0 and nfit_test.1. */
export function defaultTopology(): NfitTestPlatformSpec[] {
  return nfitTestPlatforms();
}

/**
 * Checks platforms read back from a state folder: each a valid NFIT platform, names distinct, ranges of
 * different platforms apart. EINVAL otherwise.
 */
export function validatePlatforms(list: unknown): NfitTestPlatformSpec[] {
  if (!Array.isArray(list) || list.length === 0) bad('platforms must be a non-empty array');
  const names = new Set<string>();
  const ranges: { from: number; to: number; name: string }[] = [];
  for (const [i, entry] of list.entries()) {
    const e = obj(entry, `platforms[${i}]`);
    if (typeof e.name !== 'string' || !/^[\w.-]+$/.test(e.name))
      bad(`platforms[${i}].name must be a plain name`);
    if (names.has(e.name)) bad(`platform name ${e.name} is used twice`);
    names.add(e.name);
    validateNfitPlatform(e.platform as NfitPlatform);
    for (const s of (e.platform as NfitPlatform).spas) {
      const clash = ranges.find((r) => s.base < r.to && r.from < s.base + s.size);
      if (clash !== undefined) bad(`${e.name}'s range at 0x${s.base.toString(16)} overlaps ${clash.name}'s`);
      ranges.push({ from: s.base, to: s.base + s.size, name: e.name });
    }
  }
  return list as NfitTestPlatformSpec[];
}
