export { NFIT_TEST_REQUIRED_MODULES, nfitTestConfigCheck, nfitTestWatermark } from './config_check.js';
export {
  NfitTestIomap,
  NfitTestResource,
  NfitTestResources,
  type NfitTestResourcesOptions,
} from './iomap.js';
export {
  DIMM_SIZE,
  LABEL_SIZE,
  NFIT_TEST_HANDLES,
  NFIT_TEST_SPA_STRIDE,
  NFIT_TEST_SPAN,
  nfitDimmHandle,
  nfitTest0Platform,
  nfitTest1Platform,
  nfitTestDefaultBase,
  nfitTestSerial,
  SPA_VCD_SIZE,
  SPA0_SIZE,
  SPA1_SIZE,
  SPA2_SIZE,
  type SparsePlatformOptions,
  sparsePlatform,
} from './nfit.js';
export * from './nfit_ctl.js';
export {
  describeNfitPlatform,
  type NfitDimmDescription,
  type NfitPlatformDescription,
  type NfitSpaDescription,
  type NfitWayDescription,
  validateNfitPlatform,
} from './nfit_desc.js';
export {
  createNfitTest,
  createNfitTests,
  type NfitTest,
  type NfitTestOptions,
  type NfitTests,
} from './nfit_test.js';
export {
  makeNfitTestModule,
  type NfitTestInstance,
  NfitTestMedia,
  NfitTestModule,
  type NfitTestParams,
  type NfitTestPlatformSpec,
  nfitTestModule,
  nfitTestPlatforms,
} from './nfit_test_module.js';
export {
  loadNfitTestStack,
  NFIT_TEST_STACK_UNLOAD_ORDER,
  type NfitTestStack,
  type NfitTestStackOptions,
  unloadNfitTestStack,
} from './stack.js';
