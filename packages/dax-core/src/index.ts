export {
  DaxCdev,
  type DaxDirectAccessResult,
  DaxFsInode,
  DaxInode,
  type DaxOperations,
  type DirectAccess,
} from './dax.js';
export {
  CONFIG_NR_DEV_DAX,
  DAX_HASH_SIZE,
  DAXFS_MAGIC,
  type DaxCore,
  type DaxParams,
  daxModule,
  NR_DAX_MIN,
} from './super.js';
