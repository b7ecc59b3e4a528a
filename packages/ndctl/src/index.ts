export { type DaxsimIO, daxsimMain, withMachine } from './cli/daxsim.js';
export { daxctlCommands, daxctlMain, NDCTL_VERSION, ndctlCommands, ndctlMain } from './cli/tools.js';
export type { HostFiles, ToolCommand, ToolContext } from './context.js';
export { cmdDisableDevice, cmdEnableDevice } from './daxctl/device.js';
export { cmdDaxctlList } from './daxctl/list.js';
export { cmdDaxio, DAXIO_VERSION } from './daxio/daxio.js';
export { runDemo } from './demo.js';
export { cmdStartScrub, cmdWaitScrub } from './ndctl/bus.js';
export { cmdClearErrors } from './ndctl/clear_errors.js';
export { cmdInitLabels, cmdReadLabels, cmdZeroLabels } from './ndctl/dimm.js';
export { cmdInjectError } from './ndctl/inject_error.js';
export { cmdList } from './ndctl/list.js';
export {
  cmdCreateNamespace,
  cmdDestroyNamespace,
  cmdDisableNamespace,
  cmdEnableNamespace,
} from './ndctl/namespace.js';
export { cmdDisableRegion, cmdEnableRegion } from './ndctl/region.js';
export { FileBacking, FileLabelStore, FileMedia } from './platform/file_media.js';
export { bootMachine, type Machine, type MachineStreams, nodeHostFiles } from './platform/machine.js';
export {
  DAXSIM_STATE_ENV,
  DEFAULT_STATE_DIR,
  initPlatform,
  loadTopology,
  lockPlatform,
  type PlatformState,
  readPlatform,
  resetPlatform,
  resolveStateDir,
} from './platform/state.js';
export { DEFAULT_TOPOLOGY, defaultTopology, parseTopology, validatePlatforms } from './platform/topology.js';
export {
  type OptionSpec,
  parseOptions,
  parseOrUsage,
  USAGE_EXIT,
  UsageError,
  usageText,
} from './util/parse_options.js';
export { displaySize, parseSize64 } from './util/size.js';
