export {
  genericMakeRequest,
  REQ_OP_READ,
  REQ_OP_WRITE,
  type ReqOp,
  SECTOR_SHIFT,
  SECTOR_SIZE,
} from './block/blk-core.js';
export { BlockDevice, BlockDevices } from './block/block_dev.js';
export {
  BLOCK_EXT_MAJOR,
  type BlockDeviceOperations,
  BlockLayer,
  DISK_MAX_PARTS,
  GENHD_FL_EXT_DEVT,
  GENHD_FL_REMOVABLE,
  GENHD_FL_UP,
  Gendisk,
  type GendiskInit,
  getDiskRo,
  type HdStruct,
  setCapacity,
  setDiskRo,
} from './block/genhd.js';
export * from './drivers/base/index.js';
export {
  type ErrnoCode,
  errnoName,
  errnoValue,
  isErrno,
  KernelError,
  type KernelErrorDetails,
  kerr,
  strerror,
} from './errno.js';
export { Cdev, type CdevParent, CharDevices, cdevInit, type ModulePins } from './fs/char_dev.js';
export {
  File,
  type FileOperations,
  FMODE_READ,
  FMODE_WRITE,
  fput,
  getFile,
  O_ACCMODE,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
} from './fs/file_table.js';
export { type FileSystemType, Filesystems, type Vfsmount } from './fs/filesystems.js';
export {
  AddressSpace,
  evict,
  GFP_USER,
  I_CLEAR,
  I_FREEING,
  I_NEW,
  I_WILL_FREE,
  Inode,
  type InodeSet,
  type InodeTest,
  iget5Locked,
  igrab,
  iput,
  S_DAX,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
  unlockNewInode,
} from './fs/inode.js';
export {
  IOC_DIRSHIFT,
  IOC_NONE,
  IOC_NRBITS,
  IOC_NRSHIFT,
  IOC_READ,
  IOC_SIZEBITS,
  IOC_SIZESHIFT,
  IOC_TYPEBITS,
  IOC_TYPESHIFT,
  IOC_WRITE,
  ioc,
  iocDir,
  iocNr,
  iocSize,
  iocType,
  iowr,
  vfsIoctl,
} from './fs/ioctl.js';
export { doSysOpen } from './fs/open.js';
export { vfsRead, vfsWrite } from './fs/read_write.js';
export {
  genericDeleteInode,
  killAnonSuper,
  mountPseudo,
  SuperBlock,
  type SuperOperations,
} from './fs/super.js';
export { Sysfs, type SysfsAttribute, type SysfsNodeType } from './fs/sysfs/kernfs.js';
export { fullNameHash, GOLDEN_RATIO_32, hash32 } from './include/hash.js';
export { MINORBITS, MINORMASK, major, minor, mkdev } from './include/kdev_t.js';
export {
  PAGE_SHIFT,
  PAGE_SIZE,
  PFN_DEV,
  PFN_MAP,
  PFN_SG_CHAIN,
  PFN_SG_LAST,
  type PfnT,
  pfnTDevmap,
  pfnTToPhys,
  physToPfnT,
} from './include/pfn_t.js';
export { AsyncDomain } from './kernel/async.js';
export { Task } from './kernel/fork.js';
export type { RedirectedResource, ResourceRedirect } from './kernel/iomap_wrap.js';
export {
  type AnyModuleDefinition,
  Module,
  type ModuleContext,
  type ModuleDefinition,
  ModuleLoader,
  type ModuleState,
  type ModuleWithApi,
  type ParamSpec,
  type ParamSpecs,
  type ParamValue,
} from './kernel/module.js';
export {
  KERN_ALERT,
  KERN_CRIT,
  KERN_DEBUG,
  KERN_EMERG,
  KERN_ERR,
  KERN_INFO,
  KERN_NOTICE,
  KERN_WARNING,
  type LogLevel,
  type LogRecord,
  Printk,
  type PrintkOptions,
} from './kernel/printk.js';
export { SrcuStruct } from './kernel/rcu/srcu.js';
export { Rcu } from './kernel/rcu/tree.js';
export * from './kernel/resource.js';
export {
  BUS_ADRERR,
  BUS_MCEERR_AR,
  isSignal,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SIGBUS,
  SIGKILL,
  SIGSEGV,
  SignalError,
  type SignalName,
} from './kernel/signal.js';
export { Kernel, type KernelOptions } from './kernel.js';
export {
  Badblocks,
  type BadblocksCheck,
  type BadblocksRange,
  BB_MAX_LEN,
  MAX_BADBLOCKS,
} from './lib/badblocks.js';
export { FaultInject } from './lib/fault-inject.js';
export { IDA_MAX, Ida } from './lib/idr.js';
export { Kref } from './lib/kref.js';
export { doPageFault, userAccess } from './mm/fault.js';
export {
  Kmemleak,
  LeakBaseline,
  type LeakCheckOptions,
  type LeakDiff,
  type LeakSnapshot,
} from './mm/kmemleak.js';
export {
  type FaultCounts,
  FaultEvents,
  handleMmFault,
  unmapMappingRange,
  vmfInsertPfnPmd,
  vmfInsertPfnPud,
  vmInsertMixed,
  zapPageRange,
} from './mm/memory.js';
export {
  PAGES_PER_SECTION,
  SECTION_SIZE,
  SECTION_SIZE_BITS,
  STRUCT_PAGE_SIZE,
  vmemAltmapAlloc,
} from './mm/memory_hotplug.js';
export {
  type DevPagemap,
  KERNEL_VA_OFFSET,
  MEMREMAP_WB,
  MEMREMAP_WC,
  MEMREMAP_WT,
  Memremap,
  type VmemAltmap,
  vmemAltmapOffset,
} from './mm/memremap.js';
export * from './mm/mm_types.js';
export {
  doMadvise,
  doMmap,
  doMunmap,
  exitMmap,
  getUnmappedArea,
  MMAP_BASE,
  MMAP_MIN_ADDR,
  MmStruct,
  TASK_SIZE,
  TASK_UNMAPPED_BASE,
} from './mm/mmap.js';
export { PageTable, type PageWalk } from './mm/pgtable.js';
export { L1_CACHE_BYTES, PHYS_ADDR_MAX, PhysicalMemory, type PoisonRange } from './mm/physmem.js';
export { type MemoryBacking, SPARSE_CHUNK_SHIFT, SPARSE_CHUNK_SIZE, SparseBacking } from './mm/sparse.js';
