/**
 * dax_pmem_probe() (drivers/dax/pmem.c) over nfit_test, step by step: the dax device covers exactly the data
 * behind the info block, a busy namespace range fails the probe without leftovers, the info block is
 * validated or (re)written as nd_pfn_init() does, unbinding kills live mappings while the nd dax device keeps
 * its configuration, an open /dev/daxR.N pins the module, and every fail point the bind reaches unwinds.
 */
import { randomUUID } from 'node:crypto';
import { daxPmemModule } from '@daxsim/dax-pmem';
import { type Kernel, MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE, SIGBUS } from '@daxsim/kernel';
import {
  DAX_SIG,
  decodePfnSb,
  encodePfnSb,
  PFN_MODE_PMEM,
  PFN_MODE_RAM,
  PFN_SB_OFFSET,
  PFN_SB_SIZE,
  PFN_SIG,
  type PfnSbWant,
  parseUuid,
  pfnSbInit,
  pfnSbValidate,
} from '@daxsim/nvdimm-sim';
import { describe, expect, it } from 'vitest';
import { sparsePlatform } from '../src/nfit.js';
import {
  bind,
  createNamespace,
  daxChardevs,
  driverOf,
  holder,
  read,
  regions,
  unbind,
  waitProbe,
  write,
} from './libndctl.js';
import { bootNfitTest, GiB, KiB, MiB, type NdStack } from './nd_fixture.js';

const ND = '/sys/bus/nd/devices';

type MapMode = 'dev' | 'mem';

interface DaxConfig {
  map: MapMode;
  align: number;
  uuid?: string;
}

/** ndctl's first steps of create-namespace: the region's namespace seed gets a uuid and a size; not bound. */
async function newNamespace(k: Kernel, region: string, size: number): Promise<string> {
  const ns = read(k, region, 'namespace_seed');
  await write(k, ns, 'uuid', randomUUID());
  await write(k, ns, 'size', String(size));
  return ns;
}

/** The region's dax seed set up for `ns` (uuid, mode, align, namespace), left unbound. */
async function configureDaxSeed(k: Kernel, region: string, ns: string, o: DaxConfig): Promise<string> {
  const dax = read(k, region, 'dax_seed');
  await write(k, dax, 'uuid', o.uuid ?? randomUUID());
  await write(k, dax, 'mode', o.map === 'mem' ? 'ram' : 'pmem');
  await write(k, dax, 'align', String(o.align));
  await write(k, dax, 'namespace', ns);
  return dax;
}

const nsStart = (k: Kernel, ns: string): number => Number(read(k, ns, 'resource'));
const nsSize = (k: Kernel, ns: string): number => Number(read(k, ns, 'size'));

/** The 4 KiB info block at namespace offset 4 KiB, as the media holds it. */
function mediaInfoBlock(k: Kernel, ns: string): Uint8Array {
  const buf = new Uint8Array(PFN_SB_SIZE);
  k.physmem.read(nsStart(k, ns) + PFN_SB_OFFSET, buf);
  return buf;
}

function writeMediaInfoBlock(k: Kernel, ns: string, block: Uint8Array): void {
  k.physmem.write(nsStart(k, ns) + PFN_SB_OFFSET, block);
}

/** What nd_pfn_validate() compares a block with when the dax device `dax` probes `ns`. */
function validateWant(k: Kernel, ns: string, dax: string): PfnSbWant {
  return {
    sig: DAX_SIG,
    parentUuid: parseUuid(read(k, ns, 'uuid'))!,
    nsStart: nsStart(k, ns),
    nsSize: nsSize(k, ns),
    uuid: parseUuid(read(k, dax, 'uuid'))!,
    mode: read(k, dax, 'mode') === 'ram' ? PFN_MODE_RAM : PFN_MODE_PMEM,
    align: Number(read(k, dax, 'align')),
  };
}

/** The block nd_pfn_init() writes for dax device `dax` on `ns`. */
function initBlock(k: Kernel, ns: string, dax: string): Uint8Array {
  const want = validateWant(k, ns, dax);
  const out = pfnSbInit({
    uuid: want.uuid!,
    parentUuid: want.parentUuid,
    nsStart: want.nsStart,
    nsSize: want.nsSize,
    mode: want.mode!,
    align: want.align!,
    isDax: true,
    readOnly: false,
  });
  if (!out.ok) throw new Error(out.reason);
  return out.block;
}

const logged = (k: Kernel, text: string): boolean => k.dmesg().some((line) => line.includes(text));

/** What a dax device `dax` leaves on the system: its driver, device-dax instances, region attributes. */
function daxState(k: Kernel, dax: string) {
  return {
    driver: driverOf(k, dax),
    chardevs: daxChardevs(k, dax),
    daxRegion: k.sysfs.exists(`${ND}/${dax}/dax_region`),
  };
}

const UNBOUND = { driver: null, chardevs: [], daxRegion: false };

/** Loads and stores through a task's shared mapping of /dev/<chardev>. */
function mapDax(k: Kernel, comm: string, chardev: string, len: number) {
  const t = k.spawn(comm);
  const fd = t.open(`/dev/${chardev}`, O_RDWR);
  const addr = t.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return { t, fd, addr };
}

const pattern = (n: number, salt: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + salt) & 0xff);

/** A 4 GiB labelled platform beside nfit_test's, for memmaps larger than its 32 MiB regions. */
async function sparseRegion(s: NdStack): Promise<string> {
  await s.nfitTest.addPlatform(
    'nfit_test.2',
    sparsePlatform({ size: 4 * GiB, base: 64 * GiB * 1024, providerName: 'nfit_test.2' }),
  );
  return regions(s.kernel, 'nfit_test.2')[0]!;
}

describe('the dax device covers exactly the data; dataoff as nd_pfn_init() computes it', () => {
  // [platform, map, align, namespace size, dataoff]; map=dev holds 64 bytes of memmap per 4K page plus the
  // 128K dax reserve, padded to max(align, 2M); map=mem only 8K of info plus the reserve, aligned to align.
  it.each([
    ['nfit_test.0', 'dev', 2 * MiB, 32 * MiB, 2 * MiB],
    ['nfit_test.0', 'dev', 4 * KiB, 32 * MiB, 2 * MiB],
    ['nfit_test.0', 'mem', 2 * MiB, 32 * MiB, 2 * MiB],
    ['nfit_test.0', 'mem', 4 * KiB, 32 * MiB, 136 * KiB],
    ['nfit_test.2', 'dev', 2 * MiB, 4 * GiB, 66 * MiB],
    ['nfit_test.2', 'dev', 4 * KiB, 4 * GiB, 66 * MiB],
    ['nfit_test.2', 'dev', GiB, 4 * GiB, GiB],
    ['nfit_test.2', 'mem', 2 * MiB, 4 * GiB, 2 * MiB],
    ['nfit_test.2', 'mem', 4 * KiB, 4 * GiB, 136 * KiB],
  ] as const)(
    '%s map=%s align=%i (namespace %i bytes): dataoff %i',
    async (platform, map, align, size, dataoff) => {
      await using s = await bootNfitTest();
      const k = s.kernel;
      const region = platform === 'nfit_test.0' ? regions(k, platform)[0]! : await sparseRegion(s);
      const ns = await newNamespace(k, region, size);
      const dax = await configureDaxSeed(k, region, ns, { map, align });
      const start = nsStart(k, ns);
      expect(mediaInfoBlock(k, ns)).toEqual(new Uint8Array(PFN_SB_SIZE));

      await bind(k, 'dax_pmem', dax);
      const chardev = `dax${region.slice('region'.length)}.${ns.split('.')[1]}`;
      expect(daxState(k, dax)).toEqual({ driver: 'dax_pmem', chardevs: [chardev], daxRegion: true });

      // the block on media is exactly the one nd_pfn_init() lays out, and it places the data at `dataoff`
      const block = mediaInfoBlock(k, ns);
      expect(block).toEqual(initBlock(k, ns, dax));
      const sb = decodePfnSb(block);
      expect(sb).toMatchObject({
        signature: DAX_SIG,
        versionMajor: 1,
        versionMinor: 2,
        mode: map === 'mem' ? PFN_MODE_RAM : PFN_MODE_PMEM,
        align,
        dataoff,
        npfns: (size - dataoff) / 4096,
        startPad: 0,
        endTrunc: 0,
      });
      expect(sb.uuid).toEqual(parseUuid(read(k, dax, 'uuid')));
      expect(sb.parentUuid).toEqual(parseUuid(read(k, ns, 'uuid')));

      expect(Number(k.sysfs.read(`/sys/class/dax/${chardev}/size`))).toBe(size - sb.dataoff);
      expect(Number(read(k, dax, 'resource'))).toBe(start + sb.dataoff);
      expect(Number(read(k, dax, 'size'))).toBe(size - sb.dataoff);
      const dr = `${ND}/${dax}/dax_region`;
      expect(k.sysfs.read(`${dr}/id`)).toBe(`${region.slice('region'.length)}\n`);
      expect(k.sysfs.read(`${dr}/size`)).toBe(`${size - sb.dataoff}\n`);
      expect(k.sysfs.read(`${dr}/align`)).toBe(`${align}\n`);

      // device offset 0 is namespace offset dataoff on the media
      const { t, addr } = mapDax(k, 'dax_pmem', chardev, align);
      const data = pattern(64, 3);
      t.store(addr, data);
      const media = new Uint8Array(64);
      k.physmem.read(start + sb.dataoff, media);
      expect(media).toEqual(data);
    },
  );
});

it('a busy namespace range fails the probe (EBUSY) and leaves nothing; released, the bind works', async () => {
  await using s = await bootNfitTest();
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')[0]!;
  const ns = await newNamespace(k, region, 16 * MiB);
  const dax = await configureDaxSeed(k, region, ns, { map: 'dev', align: 2 * MiB });
  const start = nsStart(k, ns);
  const size = nsSize(k, ns);
  const nfitRes = s.nfitTest.instance('nfit_test.0').resources.resources.find((r) => r.contains(start))!;

  const squatter = k.iomem.requestMemRegion(start, size, 'squatter');
  expect(squatter).not.toBeNull();
  expect(nfitRes.requests.map((r) => r.name)).toEqual(['squatter']);
  // the redirected __devm_request_region WARNs about the busy start (tools/testing/nvdimm/test/iomap.c)
  s.expectedWarnings++;
  await expect(bind(k, 'dax_pmem', dax)).rejects.toMatchObject({ code: 'ENODEV', syscall: 'bind_store' });
  expect(daxState(k, dax)).toEqual(UNBOUND);
  expect(k.sysfs.exists('/sys/class/dax/dax0.0')).toBe(false);
  expect(logged(k, `${dax}: could not reserve region [mem 0x${start.toString(16)}-`)).toBe(true);
  expect(logged(k, `dax_pmem: probe of ${dax} failed with error -16`)).toBe(true);
  expect(nfitRes.requests.map((r) => r.name)).toEqual(['squatter']);
  expect(mediaInfoBlock(k, ns)).toEqual(new Uint8Array(PFN_SB_SIZE));
  expect(read(k, region, 'dax_seed')).toBe(dax);

  k.iomem.releaseMemRegion(start, size);
  expect(nfitRes.requests).toEqual([]);
  await bind(k, 'dax_pmem', dax);
  expect(daxState(k, dax)).toEqual({ driver: 'dax_pmem', chardevs: ['dax0.0'], daxRegion: true });
  expect(nfitRes.requests.map((r) => [r.name, r.start, r.end])).toEqual([[ns, start, start + size - 1]]);
  expect(k.sysfs.read('/sys/class/dax/dax0.0/size')).toBe(`${14 * MiB}\n`);
});

describe('the info block', () => {
  it('a dax seed on a namespace holding an fsdax block finds no DAX block (ENODEV) and writes one', async () => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[0]!;
    const ns = await createNamespace(k, region, {
      mode: 'fsdax',
      map: 'dev',
      align: 2 * MiB,
      size: 32 * MiB,
    });
    const pfn = holder(k, ns)!;
    const pfnBlock = mediaInfoBlock(k, ns);
    expect(decodePfnSb(pfnBlock)).toMatchObject({ signature: PFN_SIG, dataoff: 2 * MiB });

    // the namespace changes hands without zeroing the block
    await unbind(k, pfn);
    await write(k, pfn, 'namespace', '');
    const dax = await configureDaxSeed(k, region, ns, { map: 'dev', align: 2 * MiB });
    expect(pfnSbValidate(pfnBlock, validateWant(k, ns, dax))).toEqual({
      ok: false,
      errno: 'ENODEV',
      reason: 'signature mismatch',
    });
    await bind(k, 'dax_pmem', dax);
    expect(daxState(k, dax)).toEqual({ driver: 'dax_pmem', chardevs: ['dax0.0'], daxRegion: true });
    const block = mediaInfoBlock(k, ns);
    expect(block).not.toEqual(pfnBlock);
    expect(block).toEqual(initBlock(k, ns, dax));
    expect(decodePfnSb(block).signature).toBe(DAX_SIG);
    expect(pfnSbValidate(block, validateWant(k, ns, dax))).toMatchObject({ ok: true, align: 2 * MiB });
    expect(read(k, ns, 'mode')).toBe('dax');
    expect(holder(k, ns)).toBe(dax);
  });

  it('a bad mode (checksum fixed) fails validation with ENXIO; settings that differ from the block fail with EINVAL', async () => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[0]!;
    const ns = await createNamespace(k, region, {
      mode: 'devdax',
      map: 'dev',
      align: 2 * MiB,
      size: 16 * MiB,
    });
    const dax = holder(k, ns)!;
    const data = pattern(4096, 11);
    {
      const { t, addr } = mapDax(k, 'writer', 'dax0.0', 2 * MiB);
      t.store(addr + 8192, data);
      t.exit();
      k.reapTask(t);
    }
    await unbind(k, dax);
    const good = mediaInfoBlock(k, ns);

    const bad = encodePfnSb({ ...decodePfnSb(good), mode: 3 });
    writeMediaInfoBlock(k, ns, bad);
    expect(pfnSbValidate(bad, validateWant(k, ns, dax))).toEqual({
      ok: false,
      errno: 'ENXIO',
      reason: 'bad mode: 3',
    });
    await expect(bind(k, 'dax_pmem', dax)).rejects.toMatchObject({ code: 'ENODEV' });
    expect(daxState(k, dax)).toEqual(UNBOUND);
    expect(logged(k, `${dax}: bad mode: 3`)).toBe(true);
    expect(mediaInfoBlock(k, ns)).toEqual(bad);

    writeMediaInfoBlock(k, ns, good);
    await write(k, dax, 'align', String(4 * KiB));
    await expect(bind(k, 'dax_pmem', dax)).rejects.toMatchObject({ code: 'ENODEV' });
    expect(daxState(k, dax)).toEqual(UNBOUND);
    expect(logged(k, `${dax}: init failed, settings mismatch`)).toBe(true);
    expect(logged(k, `dax_pmem: probe of ${dax} failed with error -22`)).toBe(true);
    expect(mediaInfoBlock(k, ns)).toEqual(good);

    await write(k, dax, 'align', String(2 * MiB));
    await write(k, dax, 'mode', 'ram');
    await expect(bind(k, 'dax_pmem', dax)).rejects.toMatchObject({ code: 'ENODEV' });
    expect(daxState(k, dax)).toEqual(UNBOUND);
    expect(mediaInfoBlock(k, ns)).toEqual(good);

    await write(k, dax, 'mode', 'pmem');
    await bind(k, 'dax_pmem', dax);
    expect(daxState(k, dax)).toEqual({ driver: 'dax_pmem', chardevs: ['dax0.0'], daxRegion: true });
    expect(mediaInfoBlock(k, ns)).toEqual(good);
    const { t, addr } = mapDax(k, 'reader', 'dax0.0', 2 * MiB);
    expect(t.load(addr + 8192, data.length)).toEqual(data);
  });

  it('an alignment the namespace cannot satisfy fails init with ENXIO and writes nothing', async () => {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[0]!;
    const ns = await newNamespace(k, region, 32 * MiB);
    const dax = await configureDaxSeed(k, region, ns, { map: 'dev', align: GiB });
    await expect(bind(k, 'dax_pmem', dax)).rejects.toMatchObject({ code: 'ENODEV' });
    expect(daxState(k, dax)).toEqual(UNBOUND);
    expect(logged(k, `${dax}: ${ns} unable to satisfy requested alignment`)).toBe(true);
    expect(mediaInfoBlock(k, ns)).toEqual(new Uint8Array(PFN_SB_SIZE));
  });
});

it('unbinding dax_pmem under a mapping: SIGBUS, /dev node gone, nd device kept, rebind serves the same data', async () => {
  await using s = await bootNfitTest();
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')[0]!;
  const ns = await createNamespace(k, region, { mode: 'devdax', map: 'dev', align: 2 * MiB, size: 16 * MiB });
  const dax = holder(k, ns)!;
  const [chardev] = daxChardevs(k, dax);
  expect(chardev).toBe('dax0.0');
  const settings = ['uuid', 'mode', 'align', 'namespace'].map((a) => read(k, dax, a));
  const { t, fd, addr } = mapDax(k, 'mapper', chardev!, 4 * MiB);
  const data = pattern(512, 5);
  t.store(addr + 2 * MiB + 100, data);
  expect(t.load(addr + 2 * MiB + 100, data.length)).toEqual(data);

  await unbind(k, dax);
  expect(() => t.load(addr + 2 * MiB + 100, 1)).toThrow(
    expect.objectContaining({ signal: 'SIGBUS', signo: SIGBUS, addr: addr + 2 * MiB + 100 }),
  );
  expect(() => t.store(addr, new Uint8Array([1]))).toThrow(expect.objectContaining({ signal: 'SIGBUS' }));
  expect(k.devtmpfs.lookup(`/dev/${chardev}`)).toBeUndefined();
  expect(() => k.spawn('late').open(`/dev/${chardev}`, O_RDWR)).toThrow(
    expect.objectContaining({ code: 'ENOENT' }),
  );
  expect(daxState(k, dax)).toEqual(UNBOUND);
  expect(k.sysfs.exists(`${ND}/${dax}`)).toBe(true);
  expect(['uuid', 'mode', 'align', 'namespace'].map((a) => read(k, dax, a))).toEqual(settings);
  expect(holder(k, ns)).toBe(dax);
  expect(read(k, ns, 'mode')).toBe('dax');
  expect(() => read(k, dax, 'size')).toThrow(expect.objectContaining({ code: 'ENXIO' }));

  await bind(k, 'dax_pmem', dax);
  expect(daxState(k, dax)).toEqual({ driver: 'dax_pmem', chardevs: [chardev], daxRegion: true });
  const again = mapDax(k, 'remapper', chardev!, 4 * MiB);
  expect(again.t.load(again.addr + 2 * MiB + 100, data.length)).toEqual(data);
  // the old mapping belongs to the killed dax inode and stays dead
  expect(() => t.load(addr + 2 * MiB + 100, 1)).toThrow(expect.objectContaining({ signal: 'SIGBUS' }));
  t.munmap(addr, 4 * MiB);
  t.close(fd);
});

it('an open /dev/daxR.N or a mapping of it pins dax_pmem: rmmod is EWOULDBLOCK until both are gone', async () => {
  await using s = await bootNfitTest();
  const k = s.kernel;
  const region = regions(k, 'nfit_test.0')[0]!;
  const ns = await createNamespace(k, region, { mode: 'devdax', map: 'dev', align: 2 * MiB, size: 16 * MiB });
  const dax = holder(k, ns)!;
  expect(k.sysfs.read('/sys/module/dax_pmem/refcnt')).toBe('0\n');
  const { t, fd, addr } = mapDax(k, 'holder', 'dax0.0', 2 * MiB);
  expect(k.sysfs.read('/sys/module/dax_pmem/refcnt')).toBe('1\n');
  await expect(k.modules.rmmod('dax_pmem')).rejects.toMatchObject({
    code: 'EWOULDBLOCK',
    syscall: 'delete_module',
  });
  expect(k.sysfs.read('/sys/module/dax_pmem/initstate')).toBe('live\n');
  expect(daxState(k, dax)).toEqual({ driver: 'dax_pmem', chardevs: ['dax0.0'], daxRegion: true });
  t.store(addr, new Uint8Array([0x5a]));

  // the vma keeps the file, and so the module, after close
  t.close(fd);
  expect(k.sysfs.read('/sys/module/dax_pmem/refcnt')).toBe('1\n');
  await expect(k.modules.rmmod('dax_pmem')).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
  t.munmap(addr, 2 * MiB);
  expect(k.sysfs.read('/sys/module/dax_pmem/refcnt')).toBe('0\n');

  await k.modules.rmmod('dax_pmem');
  expect(k.sysfs.exists('/sys/bus/nd/drivers/dax_pmem')).toBe(false);
  expect(daxState(k, dax)).toEqual(UNBOUND);
  expect(k.sysfs.exists('/sys/class/dax/dax0.0')).toBe(false);

  // loading it again binds the configured device by itself
  await k.modules.insmod(daxPmemModule);
  await waitProbe(k);
  expect(daxState(k, dax)).toEqual({ driver: 'dax_pmem', chardevs: ['dax0.0'], daxRegion: true });
  const again = mapDax(k, 'reader', 'dax0.0', 2 * MiB);
  expect(again.t.load(again.addr, 1)).toEqual(new Uint8Array([0x5a]));
});

it('every fail point the bind of a configured dax seed reaches ends in a clean failure or a working device', async () => {
  const outcomes: string[] = [];
  for (let nth = 1; nth < 1000; nth++) {
    await using s = await bootNfitTest();
    const k = s.kernel;
    const region = regions(k, 'nfit_test.0')[0]!;
    const ns = await newNamespace(k, region, 16 * MiB);
    const dax = await configureDaxSeed(k, region, ns, { map: 'dev', align: 2 * MiB });
    const start = nsStart(k, ns);
    const nfitRes = s.nfitTest.instance('nfit_test.0').resources.resources.find((r) => r.contains(start))!;
    k.faultInject.reset();
    k.faultInject.armNth(nth);
    let error: unknown = null;
    try {
      await bind(k, 'dax_pmem', dax);
    } catch (e) {
      error = e;
    }
    const failed = [...k.faultInject.failed];
    k.faultInject.reset();
    const state = daxState(k, dax);
    if (failed.length === 0) {
      expect(error).toBeNull();
      expect(state).toEqual({ driver: 'dax_pmem', chardevs: ['dax0.0'], daxRegion: true });
      break;
    }
    expect(failed).toHaveLength(1);
    if (state.driver === null) {
      outcomes.push(`${failed[0]}: unbound`);
      expect(error).toMatchObject({ code: 'ENODEV' });
      expect(state).toEqual(UNBOUND);
      expect(k.sysfs.exists('/sys/class/dax/dax0.0')).toBe(false);
      expect(k.devtmpfs.lookup('/dev/dax0.0')).toBeUndefined();
      expect(s.devdax.stats()).toEqual({ regions: 0, devices: 0 });
      expect(nfitRes.requests).toEqual([]);
      expect(read(k, region, 'dax_seed')).toBe(dax);
      // nothing stale stays behind: the same device binds once the failure is gone
      await bind(k, 'dax_pmem', dax);
    } else {
      // the probe succeeded; what failed was the region replenishing its seeds, which is not fatal
      const report = k.dmesg().find((l) => l.includes('failed to create'));
      outcomes.push(
        `${failed[0]}: bound${report === undefined ? '' : `, ${report.replace(/^\[[^\]]*\] /, '')}`}`,
      );
      expect(error).toBeNull();
      expect(read(k, region, 'dax_seed')).not.toBe(dax);
    }
    expect(daxState(k, dax)).toEqual({ driver: 'dax_pmem', chardevs: ['dax0.0'], daxRegion: true });
    expect(k.sysfs.read('/sys/class/dax/dax0.0/size')).toBe(`${14 * MiB}\n`);
    expect(nfitRes.requests.map((r) => r.name)).toEqual([ns]);
  }
  console.log(`dax_pmem bind: ${outcomes.length} fail points covered:\n  ${outcomes.join('\n  ')}`);
  expect(outcomes).toEqual([
    // devm_nsio_enable: the namespace's range, its badblocks, the devm_memremap for the info block
    'request_region: unbound',
    'badblocks_init: unbound',
    'devm_add_action: unbound',
    // dax_pmem_probe: devm_request_mem_region of the whole namespace, then its own allocation
    'request_region: unbound',
    'kzalloc: unbound',
    // devm_memremap_pages (redirected to devm_memremap on nfit_test)
    'devm_add_action: unbound',
    // alloc_dax_region: the region, its dax_region attributes, its devres action
    'kzalloc: unbound',
    'sysfs_create_group: unbound',
    'devm_add_action: unbound',
    // devm_create_dax_dev: the dax_dev, the minor, the dax inode, the cdev, the device, its attributes, its
    // devres action
    'kzalloc: unbound',
    'ida_simple_get: unbound',
    'alloc_inode: unbound',
    'cdev_add: unbound',
    'device_add: unbound',
    'sysfs_create_group: unbound',
    'devm_add_action: unbound',
    // nd_region_notify_driver_action: a new dax seed and a new namespace seed, registered asynchronously
    'nd_dax_alloc: bound, nd_region region0: failed to create dax namespace',
    'ida_simple_get: bound, nd_region region0: failed to create dax namespace',
    'nd_namespace_pmem_create: bound, nd_region region0: failed to create pmem namespace',
    'ida_simple_get: bound, nd_region region0: failed to create pmem namespace',
    'device_add: bound',
    'sysfs_create_group: bound',
    'device_add: bound',
    'sysfs_create_group: bound',
  ]);
});
