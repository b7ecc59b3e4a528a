/**
 * tools/testing/nvdimm/config_check.c and watermark.h: nfit_test only works against the test builds of the
 * modules it wraps, each loaded as a module of its own. config_check.c refuses at build time a kernel where
 * one is built in; at load time each test module exports a watermark symbol (pmem_test, libnvdimm_test, ...)
 * that nfit_test_init() calls, so a missing one fails the load with "Unknown symbol". The simulator has no
 * built-in drivers, so the check is the load-time one: every module named must be live in kernel.modules.
 */
import { type Kernel, kerr } from '@daxsim/kernel';

/** The modules nfit_test needs by default: the nvdimm core, the nfit driver, pmem, and the dax stack. */
export const NFIT_TEST_REQUIRED_MODULES: readonly string[] = [
  'libnvdimm',
  'nfit',
  'nd_pmem',
  'dax',
  'device_dax',
  'dax_pmem',
];

/** The watermark symbol each test module exports (nfit_test_watermark()); `<name>_test` otherwise. */
const WATERMARKS: Readonly<Record<string, string>> = {
  libnvdimm: 'libnvdimm_test',
  nfit: 'acpi_nfit_test',
  nd_pmem: 'pmem_test',
  device_dax: 'device_dax_test',
  dax_pmem: 'dax_pmem_test',
};

/** The watermark symbol nfit_test resolves in module `name`. */
export function nfitTestWatermark(name: string): string {
  return WATERMARKS[name] ?? `${name}_test`;
}

/**
 * The symbol resolution nfit_test_init() depends on: for each module in `names` that is not loaded and live,
 * logs "nfit_test: Unknown symbol <watermark> (err 0)" as load_module() does, then fails with ENOENT (what
 * insmod reports for an unresolved symbol). Returns normally when all are there.
 */
export function nfitTestConfigCheck(
  kernel: Kernel,
  names: readonly string[] = NFIT_TEST_REQUIRED_MODULES,
): void {
  const missing = names.filter((name) => kernel.modules.find(name)?.state !== 'live');
  for (const name of missing)
    kernel.log.warning(`nfit_test: Unknown symbol ${nfitTestWatermark(name)} (err 0)`);
  if (missing.length > 0) throw kerr('ENOENT', 'init_module');
}
