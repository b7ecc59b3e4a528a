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
export {
  Cdev,
  type CdevParent,
  CharDevices,
  cdevInit,
  type File,
  type FileOperations,
} from './fs/char_dev.js';
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
  S_IFCHR,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
  unlockNewInode,
} from './fs/inode.js';
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
export { Kernel, type KernelOptions } from './kernel.js';
export { IDA_MAX, Ida } from './lib/idr.js';
export { Kref } from './lib/kref.js';
