/**
 * device-dax end to end: a parent device offers 1 GiB of (sparse) device memory at 2 MiB alignment, device_dax
 * publishes /dev/dax0.0, a task maps it, writes and reads through the mapping (one PMD fault per 2 MiB), a
 * MAP_PRIVATE mapping is refused, and unbinding the parent while the mapping is live turns the next access
 * into SIGBUS.
 */
import {
  type BusType,
  Device,
  type DeviceDriver,
  Kernel,
  MAP_PRIVATE,
  MAP_SHARED,
  MEMREMAP_WB,
  O_RDWR,
  PFN_DEV,
  PFN_MAP,
  PROT_READ,
  PROT_WRITE,
} from '@daxsim/kernel';
import { deviceDaxModule } from '../src/index.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const say = (text: string) => console.log(`\n## ${text}`);

const kernel = new Kernel();
const core = kernel.driverCore;
const devdax = await kernel.modules.modprobe(deviceDaxModule);
say(`modprobe device_dax (pulls in dax): ${kernel.modules.list().join(', ')}`);

const bus: BusType = { name: 'example' };
core.busRegister(bus);
const driver: DeviceDriver = { name: 'example', bus };
await core.driverRegister(driver);
const parent = new Device({ name: 'example.0', bus, release: () => {} });
await core.deviceRegister(parent);

const start = 64 * GiB;
const res = kernel.iomem.requestMemRegion(start, GiB, 'example pmem')!;
const kaddr = kernel.memremap.devmMemremap(core, parent, start, GiB, MEMREMAP_WB);
const region = (await devdax.allocDaxRegion(parent, 0, res, 2 * MiB, kaddr, PFN_DEV | PFN_MAP))!;
const daxDev = await devdax.devmCreateDaxDev(region, [res]);
devdax.daxRegionPut(region);
say('region and device');
console.log(kernel.iomem.procIomem().trimEnd());
for (const attr of ['id', 'size', 'align'])
  console.log(
    `dax_region/${attr}: ${kernel.sysfs.read(`/sys/bus/example/devices/example.0/dax_region/${attr}`).trim()}`,
  );
console.log(
  `/sys/class/dax/${daxDev.dev.name}/size: ${kernel.sysfs.read('/sys/class/dax/dax0.0/size').trim()}`,
);
console.log(`/dev: ${kernel.devtmpfs.list().join(' ')}`);

const task = kernel.spawn('example');
const fd = task.open('/dev/dax0.0', O_RDWR);
try {
  task.mmap(0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
} catch (e) {
  say(`MAP_PRIVATE is refused: ${(e as Error).message}`);
}
const addr = task.mmap(0, GiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
say(`MAP_SHARED of 1 GiB at 0x${addr.toString(16)}`);
const text = new TextEncoder().encode('hello from a dax mapping');
task.store(addr + 5 * MiB + 123, text);
const back = new TextDecoder().decode(task.load(addr + 5 * MiB + 123, text.length));
console.log(`read back: "${back}"`);
const one = new Uint8Array(1);
for (let off = 0; off < GiB; off += 4096) task.load(addr + off, one);
const ev = kernel.faultEvents.snapshot();
console.log(`touched every 4 KiB page: PMD faults ${ev.pmd.nopage}, PTE faults ${ev.pte.nopage}`);
console.log(`host memory behind 1 GiB of device memory: ${kernel.physmem.allocatedBytes / 1024} KiB`);

say('unbind the parent while the mapping is live');
await core.deviceReleaseDriver(parent);
try {
  task.load(addr, one);
} catch (e) {
  console.log(`next access: ${(e as Error).message}`);
}
try {
  task.mmap(0, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
} catch (e) {
  console.log(`mmap on the open fd: ${(e as Error).message}`);
}
task.exit();
await core.deviceUnregister(parent);
await core.driverUnregister(driver);
core.busUnregister(bus);
kernel.iomem.releaseMemRegion(start, GiB);
await kernel.rcu.barrier();
await kernel.modules.rmmod('device_dax');
await kernel.modules.rmmod('dax');
say('dmesg');
console.log(kernel.dmesg().join('\n'));
