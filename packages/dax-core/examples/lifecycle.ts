/**
 * The main job for now: boot a kernel, load dax.ko, and walk one dax inode through its whole life —
 * alloc, register, lookup by host, read-locked direct access, kill (which waits for a reader), put, and the
 * RCU grace period that returns its minor — printing each step and, at the end, the kernel log.
 */
import { Kernel, major, minor, PAGE_SIZE, PFN_DEV, PFN_MAP, physToPfnT } from '@daxsim/kernel';
import { type DaxOperations, daxModule } from '../src/index.js';

const out = (s = '') => process.stdout.write(`${s}\n`);
let n = 0;
const step = (title: string) => out(`\n[${++n}] ${title}`);
const show = (label: string, value: unknown) =>
  out(`    ${label.padEnd(26)} ${typeof value === 'string' ? value : JSON.stringify(value)}`);

const kernel = new Kernel();

step('modprobe dax nr_dax=16   (raised to at least 256 by dax_fs_init)');
const dax = await kernel.modules.modprobe(daxModule, { nr_dax: 16 });
show('/sys/module/dax/parameters/nr_dax', kernel.sysfs.read('/sys/module/dax/parameters/nr_dax').trim());
show('/proc/devices', kernel.chrdev.procDevices().trim().split('\n').at(-1)!.trim());
show('/proc/filesystems', kernel.fs.procFilesystems().trim());

step('a 16 MiB toy pmem provider publishes dax_operations under host "pmem0"');
const base = 0x1_0000_0000;
const size = 16 << 20;
const ops: DaxOperations = {
  directAccess(_d, pgoff) {
    const off = pgoff * PAGE_SIZE;
    if (off >= size) return { avail: 0, kaddr: 0, pfn: physToPfnT(0, 0) };
    return {
      avail: (size - off) / PAGE_SIZE,
      kaddr: base + off,
      pfn: physToPfnT(base + off, PFN_DEV | PFN_MAP),
    };
  },
};
const inode = dax.allocDaxInode({ name: 'pmem0 private data' }, 'pmem0', ops);
if (inode === null) throw new Error('alloc_dax_inode failed');
show(
  'alloc_dax_inode ->',
  `dev_t ${major(inode.inode.rdev)}:${minor(inode.inode.rdev)}, mode S_IFCHR, flags S_DAX`,
);
show('stats', dax.stats());

step('dax_inode_register: cdev_add at the inode dev_t, parented by a device');
const parent = await kernel.driverCore.rootDeviceRegister('dax_demo');
const refsBefore = parent.kobj.kref.read();
dax.daxInodeRegister(inode, {}, kernel.modules.find('dax'), parent.kobj);
show('kobj_lookup(dev_t) is our cdev', kernel.chrdev.lookup(inode.inode.rdev) === inode.cdev);
show('parent kobject refs', `${refsBefore} -> ${parent.kobj.kref.read()} (cdev_add pins its parent)`);
show('/sys/devices', kernel.sysfs.readdir('/sys/devices').join(' '));

step('dax_get_by_host("pmem0") from a filesystem-like consumer');
const found = dax.daxGetByHost('pmem0');
show('found the same inode', found === inode);
show('i_count', inode.inode.count);
dax.putDaxInode(found);

step('read-locked direct access: a reader holds dax_read_lock() across an await');
const event = (s: string) => out(`    ${s}`);
let finishReader!: () => void;
const readerMayFinish = new Promise<void>((r) => {
  finishReader = r;
});
const reader = (async () => {
  const id = dax.daxReadLock();
  const got = dax.daxDirectAccess(inode, 2, 4);
  event(`reader: avail=${got.avail} kaddr=0x${got.kaddr?.toString(16)} pfn=0x${got.pfn?.pfn.toString(16)}`);
  await readerMayFinish;
  event('reader: dax_read_unlock');
  dax.daxReadUnlock(id);
})();
await new Promise((r) => setImmediate(r));

step('kill_dax_inode while the reader is still inside');
const killed = dax.killDaxInode(inode).then(() => event('kill_dax_inode: grace period over, private = null'));
await new Promise((r) => setImmediate(r));
event('(kill is waiting for the reader)');
const late = dax.daxReadLock();
try {
  dax.daxDirectAccess(inode, 0, 1);
} catch (e) {
  event(`a new operation after kill: ${(e as Error).message}`);
}
dax.daxReadUnlock(late);
finishReader();
await Promise.all([reader, killed]);
show('dax_get_by_host("pmem0")', dax.daxGetByHost('pmem0'));

step('dax_inode_unregister + put_dax_inode: the minor returns only after an RCU grace period');
dax.daxInodeUnregister(inode);
await kernel.driverCore.rootDeviceUnregister(parent);
dax.putDaxInode(inode);
show('right after the final put', dax.stats());
await kernel.rcu.synchronizeRcu();
show('after a grace period', dax.stats());

step('the mistake the kernel warns about: final put of a live dax inode');
dax.putDaxInode(dax.allocDaxInode('oops'));
await kernel.rcu.synchronizeRcu();

step('rmmod dax');
await kernel.modules.rmmod('dax');
show('dax still registered?', kernel.fs.has('dax'));

out('\n--- dmesg ---');
for (const line of kernel.dmesg()) out(line);
