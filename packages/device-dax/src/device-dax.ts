/**
 * drivers/dax/device-dax.h and the structs of drivers/dax/device.c: a dax_region (the physical range a
 * parent device offers for dax, its alignment and pfn flags) and a dax_dev (one /dev/daxR.N carved from it).
 */
import type { DaxInode } from '@daxsim/dax-core';
import { Device, type Ida, type Kref, type Resource } from '@daxsim/kernel';

/** struct dax_region. */
export interface DaxRegion {
  /** Kernel-wide unique region id (the R of daxR.N). */
  readonly id: number;
  /** Ids of the region's dax devices (the N of daxR.N). */
  readonly ida: Ida;
  /** Kernel virtual address of `res`, as the parent driver mapped it. */
  readonly base: number;
  readonly kref: Kref;
  /** Parent device backing the region; its drvdata points here. */
  readonly dev: Device;
  /** Allocation and mapping alignment for the region's dax devices. */
  readonly align: number;
  /** Physical address range of the region (a copy of the caller's). */
  readonly res: Resource;
  /** PFN_DEV, PFN_MAP: whether the pfns are device memory and have struct pages. */
  readonly pfnFlags: number;
}

/** struct dax_dev: a subdivision of a dax region, served as a character device. */
export class DaxDev {
  region!: DaxRegion;
  daxInode!: DaxInode<DaxDev>;
  readonly dev = new Device();
  id = -1;
  /** The id came from the region's IDA (and goes back to it at release). */
  idFromRegion = true;
  numResources = 0;
  /** Physical address extents, in device offset order. */
  readonly res: Resource[];

  constructor(res: Resource[]) {
    this.res = res;
  }
}
