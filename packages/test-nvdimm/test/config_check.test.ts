import { Kernel, type ModuleDefinition } from '@daxsim/kernel';
import { expect, it } from 'vitest';
import { NFIT_TEST_REQUIRED_MODULES, nfitTestConfigCheck, nfitTestWatermark } from '../src/index.js';
import { errno } from './helpers.js';

function stub(name: string): ModuleDefinition<Record<string, never>, object> {
  return { name, init: () => ({}) };
}

async function kernelWith(names: readonly string[]): Promise<Kernel> {
  const kernel = new Kernel();
  for (const name of names) await kernel.modules.insmod(stub(name));
  return kernel;
}

it('needs libnvdimm, nfit, nd_pmem, dax, device_dax and dax_pmem by default', () => {
  expect(NFIT_TEST_REQUIRED_MODULES).toEqual([
    'libnvdimm',
    'nfit',
    'nd_pmem',
    'dax',
    'device_dax',
    'dax_pmem',
  ]);
});

it('passes when every module is loaded', async () => {
  const kernel = await kernelWith(NFIT_TEST_REQUIRED_MODULES);
  expect(() => nfitTestConfigCheck(kernel)).not.toThrow();
  expect(kernel.dmesg()).toEqual([]);
});

it('refuses with ENOENT and an Unknown symbol line per missing module', async () => {
  const kernel = await kernelWith(['libnvdimm', 'dax', 'device_dax', 'dax_pmem']);
  expect(() => nfitTestConfigCheck(kernel)).toThrow(errno('ENOENT'));
  expect(kernel.log.records().map((r) => r.text)).toEqual([
    'nfit_test: Unknown symbol acpi_nfit_test (err 0)',
    'nfit_test: Unknown symbol pmem_test (err 0)',
  ]);
});

it('notices a module unloaded after the fact', async () => {
  const kernel = await kernelWith(NFIT_TEST_REQUIRED_MODULES);
  await kernel.modules.rmmod('device_dax');
  expect(() => nfitTestConfigCheck(kernel)).toThrow(errno('ENOENT'));
  expect(kernel.dmesg().at(-1)).toContain('nfit_test: Unknown symbol device_dax_test (err 0)');
});

it('checks the names it is given', async () => {
  const kernel = await kernelWith(['libnvdimm']);
  expect(() => nfitTestConfigCheck(kernel, ['libnvdimm'])).not.toThrow();
  expect(() => nfitTestConfigCheck(kernel, ['libnvdimm', 'nd_btt'])).toThrow(errno('ENOENT'));
  expect(nfitTestWatermark('nd_btt')).toBe('nd_btt_test');
  expect(nfitTestWatermark('libnvdimm')).toBe('libnvdimm_test');
});
