/**
 * include/linux/pfn_t.h: a page frame number with the flags that say how it may be mapped. The kernel keeps
 * the flags in the top bits of a u64; here they sit beside the pfn so a pfn stays an exact JS number.
 */

export const PFN_SG_CHAIN = 1 << 0;
export const PFN_SG_LAST = 1 << 1;
/** The pfn is device memory. */
export const PFN_DEV = 1 << 2;
/** Device memory that has struct pages (devm_memremap_pages). */
export const PFN_MAP = 1 << 3;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** pfn_t. */
export interface PfnT {
  readonly pfn: number;
  readonly flags: number;
}

/** phys_to_pfn_t(addr, flags). */
export function physToPfnT(addr: number, flags: number): PfnT {
  return { pfn: Math.floor(addr / PAGE_SIZE), flags };
}

/** pfn_t_to_phys(). */
export function pfnTToPhys(pfn: PfnT): number {
  return pfn.pfn * PAGE_SIZE;
}

/** pfn_t_devmap(): device memory with struct pages. */
export function pfnTDevmap(pfn: PfnT): boolean {
  return (pfn.flags & (PFN_DEV | PFN_MAP)) === (PFN_DEV | PFN_MAP);
}
