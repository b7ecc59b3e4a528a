/**
 * ndctl's device-dax scenario on nfit_test, narrated: the platform nfit_test builds, an fsdax namespace seeded
 * with data through /dev/pmemR, the same namespace reconfigured to devdax with the data intact, a shared mapping
 * of /dev/daxR.N that reads it back, then a reset to raw under the mapping and the SIGBUS that follows.
 * Run: npx -y pnpm@10.34.9 --filter @daxsim/test-nvdimm demo
 */
import { MAP_PRIVATE, MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import {
  blockDevice,
  createNamespace,
  daxChardevs,
  read,
  reconfigureNamespace,
  regions,
  writeBlock,
} from '../test/libndctl.ts';
import { bootNfitTest, MiB } from '../test/nd_fixture.ts';

const s = await bootNfitTest();
const k = s.kernel;
const say = (text: string) => console.log(text);
const show = (dev: string, attrs: string[]) =>
  say(
    `  ${dev}: ${attrs
      .filter((a) => k.sysfs.exists(`/sys/bus/nd/devices/${dev}/${a}`))
      .map((a) => `${a}=${read(k, dev, a) || '""'}`)
      .join(' ')}`,
  );

say('# nfit_test loaded: the nd bus as ndctl sees it');
for (const bus of ['nfit_test.0', 'nfit_test.1'])
  for (const r of regions(k, bus))
    show(r, ['size', 'available_size', 'mappings', 'nstype', 'namespace_seed']);

const region = regions(k, 'nfit_test.0')[1]!;
say(`\n# create-namespace -r ${region} -m fsdax -a 2M -s 32M`);
const ns = await createNamespace(k, region, { mode: 'fsdax', align: 2 * MiB, size: 32 * MiB, name: 'demo' });
const pfn = read(k, ns, 'holder');
show(ns, ['mode', 'size', 'uuid', 'holder']);
show(pfn, ['mode', 'align', 'resource', 'size']);
const disk = blockDevice(k, pfn);
const message = new TextEncoder().encode('hello from the fsdax block device');
writeBlock(k, disk, 0, message);
say(`  wrote ${message.length} bytes at /dev/${disk} offset 0`);

say(`\n# create-namespace -f -e ${ns} -m devdax -a 2M`);
await reconfigureNamespace(k, region, ns, { mode: 'devdax', align: 2 * MiB });
const dax = read(k, ns, 'holder');
const [chardev] = daxChardevs(k, dax);
show(ns, ['mode', 'size', 'uuid', 'holder']);
show(dax, ['align', 'resource', 'size']);
say(`  /dev/${chardev}: size=${k.sysfs.read(`/sys/class/dax/${chardev}/size`).trim()}`);

const t = k.spawn('demo');
const fd = t.open(`/dev/${chardev}`, O_RDWR);
try {
  t.mmap(0, 4 * MiB, PROT_READ, MAP_PRIVATE, fd, 0);
} catch (e) {
  say(`  mmap(MAP_PRIVATE) -> ${(e as Error).message}`);
}
const addr = t.mmap(0, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
say(
  `  mmap(MAP_SHARED) at 0x${addr.toString(16)} reads: "${new TextDecoder().decode(t.load(addr, message.length))}"`,
);
const faults = k.faultEvents.snapshot();
say(`  faults so far: pte ${faults.pte.nopage}, pmd ${faults.pmd.nopage}, pud ${faults.pud.nopage}`);

say(`\n# create-namespace -f -e ${ns} -m raw   (while ${chardev} is mapped)`);
await reconfigureNamespace(k, region, ns, { mode: 'raw' });
show(ns, ['mode', 'holder']);
try {
  t.store(addr + 2 * MiB, new Uint8Array([0xff]));
  say('  the store went through: that would be a bug');
  process.exitCode = 1;
} catch (e) {
  const sig = e as { signal: string; si_code: number; addr: number };
  say(
    `  store to 0x${(addr + 2 * MiB).toString(16)} -> ${sig.signal} (si_code ${sig.si_code}, addr 0x${sig.addr.toString(16)})`,
  );
}
t.exit();
k.reapTask(t);
await s[Symbol.asyncDispose]();
say('\n# modules unloaded; nothing leaked');
