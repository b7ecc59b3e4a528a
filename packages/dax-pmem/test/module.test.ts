/**
 * dax_pmem.ko as a module: it needs device_dax's and libnvdimm's symbols to load, registers the "dax_pmem" nd
 * driver while loaded, pins both of them, and rmmod undoes init.
 */
import { daxModule } from '@daxsim/dax-core';
import { deviceDaxModule } from '@daxsim/device-dax';
import { Kernel } from '@daxsim/kernel';
import { libnvdimmModule } from '@daxsim/nvdimm-sim';
import { expect, it } from 'vitest';
import { daxPmemModule } from '../src/index.js';

const DRIVER = '/sys/bus/nd/drivers/dax_pmem';

const codeOf = (code: string) => expect.objectContaining({ code });
const logged = (k: Kernel, text: string): boolean => k.dmesg().some((line) => line.endsWith(text));

it('insmod refuses to load without device_dax, then without libnvdimm, leaving nothing behind', async () => {
  const k = new Kernel();
  const nodes = k.sysfs.nodeCount;
  await expect(k.modules.insmod(daxPmemModule)).rejects.toEqual(codeOf('ENOENT'));
  expect(logged(k, 'dax_pmem: Unknown symbol in module (needs device_dax)')).toBe(true);
  expect(k.modules.list()).toEqual([]);
  expect(k.sysfs.nodeCount).toBe(nodes);

  await k.modules.modprobe(deviceDaxModule);
  await expect(k.modules.insmod(daxPmemModule)).rejects.toEqual(codeOf('ENOENT'));
  expect(logged(k, 'dax_pmem: Unknown symbol in module (needs libnvdimm)')).toBe(true);
  expect(k.modules.list()).toEqual(['device_dax', 'dax']);
  expect(k.sysfs.exists('/sys/module/dax_pmem')).toBe(false);
  expect(k.sysfs.exists('/sys/module/device_dax/holders/dax_pmem')).toBe(false);
  expect(k.sysfs.read('/sys/module/device_dax/refcnt')).toBe('0\n');
});

it('modprobe loads what dax_pmem needs first; the driver appears on the nd bus; rmmod removes it', async () => {
  const k = new Kernel();
  const nodes = k.sysfs.nodeCount;
  const api = await k.modules.modprobe(daxPmemModule);
  expect(k.modules.list()).toEqual(['dax_pmem', 'libnvdimm', 'device_dax', 'dax']);
  expect(k.sysfs.readdir('/sys/bus/nd/drivers')).toContain('dax_pmem');
  expect(api.driver.drv.name).toBe('dax_pmem');
  expect(api.driver.drv.owner).toBe(k.modules.find('dax_pmem'));
  expect(k.sysfs.exists(`${DRIVER}/bind`)).toBe(true);
  expect(k.sysfs.read('/sys/module/dax_pmem/initstate')).toBe('live\n');
  expect(k.sysfs.realpath('/sys/module/libnvdimm/holders/dax_pmem')).toBe('/sys/module/dax_pmem');
  expect(k.sysfs.realpath('/sys/module/device_dax/holders/dax_pmem')).toBe('/sys/module/dax_pmem');
  expect(k.modules.procModules()).toContain('libnvdimm 16384 1 dax_pmem, Live');
  await expect(k.modules.insmod(daxPmemModule)).rejects.toEqual(codeOf('EEXIST'));

  await k.modules.rmmod('dax_pmem');
  expect(k.sysfs.exists(DRIVER)).toBe(false);
  expect(k.sysfs.readdir('/sys/bus/nd/drivers')).not.toContain('dax_pmem');
  expect(k.sysfs.exists('/sys/module/dax_pmem')).toBe(false);
  expect(k.sysfs.exists('/sys/module/libnvdimm/holders/dax_pmem')).toBe(false);
  await expect(k.modules.rmmod('dax_pmem')).rejects.toEqual(codeOf('ENOENT'));

  // a reload registers the driver again
  await k.modules.insmod(daxPmemModule);
  expect(k.sysfs.exists(DRIVER)).toBe(true);
  for (const m of ['dax_pmem', 'libnvdimm', 'device_dax', 'dax']) await k.modules.rmmod(m);
  expect(k.modules.list()).toEqual([]);
  expect(k.sysfs.nodeCount).toBe(nodes);
  expect(k.log.warnings).toBe(0);
});

it('rmmod of libnvdimm, device_dax or dax is refused (EWOULDBLOCK) while dax_pmem uses them', async () => {
  const k = new Kernel();
  await k.modules.modprobe(daxModule);
  await k.modules.modprobe(deviceDaxModule);
  await k.modules.modprobe(libnvdimmModule);
  await k.modules.insmod(daxPmemModule);
  for (const m of ['libnvdimm', 'device_dax', 'dax'])
    await expect(k.modules.rmmod(m)).rejects.toEqual(
      expect.objectContaining({ code: 'EWOULDBLOCK', syscall: 'delete_module' }),
    );
  expect(k.modules.list()).toEqual(['dax_pmem', 'libnvdimm', 'device_dax', 'dax']);
  expect(k.sysfs.exists(DRIVER)).toBe(true);
  expect(k.sysfs.read('/sys/module/libnvdimm/initstate')).toBe('live\n');

  await k.modules.rmmod('dax_pmem');
  await k.modules.rmmod('libnvdimm');
  await k.modules.rmmod('device_dax');
  await k.modules.rmmod('dax');
  expect(k.modules.list()).toEqual([]);
});
