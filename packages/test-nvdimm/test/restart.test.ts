/**
 * A machine rebooted with the same NVDIMMs: labels and info blocks on the media bring back the same namespaces,
 * modes, uuids and data; a corrupted info block or label index is rejected as the kernel rejects it, and
 * nothing else is lost.
 */

import { KERN_DEBUG, MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import { decodePfnSb, encodePfnSb, LabelArea } from '@daxsim/nvdimm-sim';
import { describe, expect, it } from 'vitest';
import { nfitTest0Platform, nfitTestDefaultBase } from '../src/nfit.js';
import { NfitTestMedia } from '../src/nfit_test_module.js';
import { blockDevice, createNamespace, daxChardevs, read, regions, writeBlock } from './libndctl.js';
import { bootNfitTest, MiB, type NdStack } from './nd_fixture.js';

interface NsView {
  name: string;
  uuid: string;
  mode: string;
  size: string;
  altName: string;
}

function namespaces(s: NdStack, region: string): NsView[] {
  const k = s.kernel;
  return k.sysfs
    .readdir(`/sys/bus/nd/devices/${region}`)
    .filter((d) => /^namespace\d+\.\d+$/.test(d))
    .map((name) => ({
      name,
      uuid: read(k, name, 'uuid'),
      mode: read(k, name, 'mode'),
      size: read(k, name, 'size'),
      altName: read(k, name, 'alt_name'),
    }))
    .filter((n) => n.size !== '0')
    .sort((a, b) => a.name.localeCompare(b.name));
}

const DATA = new TextEncoder().encode('written before the reboot');

/** Boots, makes a devdax namespace on region0 and an fsdax one on region1 of nfit_test.0, writes to both. */
async function firstBoot(media: NfitTestMedia) {
  await using s = await bootNfitTest({}, media);
  const k = s.kernel;
  const [r0, r1] = regions(k, 'nfit_test.0');
  const devdax = await createNamespace(k, r0!, {
    mode: 'devdax',
    align: 2 * MiB,
    size: 16 * MiB,
    name: 'dd',
  });
  const fsdax = await createNamespace(k, r1!, { mode: 'fsdax', align: 2 * MiB, size: 32 * MiB, name: 'fs' });
  const t = k.spawn('writer');
  const [chardev] = daxChardevs(k, read(k, devdax, 'holder'));
  const addr = t.mmap(0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, t.open(`/dev/${chardev}`, O_RDWR), 0);
  t.store(addr + 4096, DATA);
  writeBlock(k, blockDevice(k, read(k, fsdax, 'holder')), 8192, DATA);
  const views = { r0: namespaces(s, r0!), r1: namespaces(s, r1!) };
  const daxResource = Number(read(k, devdax, 'resource'));
  return { r0: r0!, r1: r1!, devdax, fsdax, chardev: chardev!, views, daxResource };
}

function readDax(s: NdStack, chardev: string, off: number, len: number): Uint8Array {
  const t = s.kernel.spawn('reader');
  const addr = t.mmap(0, 2 * MiB, PROT_READ, MAP_SHARED, t.open(`/dev/${chardev}`, O_RDWR), 0);
  return t.load(addr + off, len);
}

function readBlock(s: NdStack, disk: string, off: number, len: number): Uint8Array {
  const t = s.kernel.spawn('reader');
  const buf = new Uint8Array(len);
  t.pread(t.open(`/dev/${disk}`, O_RDWR), buf, off);
  return buf;
}

describe('reboot', () => {
  it('finds the same namespaces, modes, uuids, devices and data', async () => {
    const media = new NfitTestMedia();
    const before = await firstBoot(media);
    await using s = await bootNfitTest({}, media);
    const k = s.kernel;
    expect(namespaces(s, before.r0)).toEqual(before.views.r0);
    expect(namespaces(s, before.r1)).toEqual(before.views.r1);
    expect(before.views.r0[0]).toMatchObject({ name: before.devdax, mode: 'dax', altName: 'dd' });
    expect(before.views.r1[0]).toMatchObject({ name: before.fsdax, mode: 'memory', altName: 'fs' });
    const dax = read(k, before.devdax, 'holder');
    expect(read(k, dax, 'align')).toBe(String(2 * MiB));
    expect(daxChardevs(k, dax)).toEqual([before.chardev]);
    expect(readDax(s, before.chardev, 4096, DATA.length)).toEqual(DATA);
    expect(readBlock(s, blockDevice(k, read(k, before.fsdax, 'holder')), 8192, DATA.length)).toEqual(DATA);
  });

  it('rejects a corrupted info block (EBUSY: dataoff beyond the namespace); the namespace comes up raw', async () => {
    const media = new NfitTestMedia();
    const before = await firstBoot(media);
    // the info block is at namespace offset 4K, in the media of the SPA range holding the namespace
    const spa = nfitTest0Platform(nfitTestDefaultBase(0)).spas.find(
      (r) => r.base <= before.daxResource && before.daxResource < r.base + r.size,
    )!;
    const backing = media.backings.get(`nfit_test.0/${spa.base}`)!;
    const off = before.daxResource - spa.base + 4096;
    const raw = new Uint8Array(4096);
    backing.read(off, raw);
    const sb = decodePfnSb(raw);
    backing.write(off, encodePfnSb({ ...sb, dataoff: 16 * MiB }));

    await using s = await bootNfitTest({}, media);
    const k = s.kernel;
    expect(read(k, before.devdax, 'mode')).toBe('raw');
    expect(read(k, before.devdax, 'holder')).toBe('');
    expect(read(k, before.devdax, 'uuid')).toBe(before.views.r0[0]!.uuid);
    expect(k.dmesg().some((l) => l.includes('pfn array size exceeds capacity'))).toBe(true);
    expect(namespaces(s, before.r1)).toEqual(before.views.r1);
    expect(readBlock(s, blockDevice(k, read(k, before.fsdax, 'holder')), 8192, DATA.length)).toEqual(DATA);
    // the data behind the bad block is untouched: the raw disk shows it at its offset within the namespace
    const rawDisk = blockDevice(k, before.devdax);
    expect(readBlock(s, rawDisk, sb.dataoff + 4096, DATA.length)).toEqual(DATA);
  });

  it('rejects a corrupted current label index (checksum) and falls back to the previous set', async () => {
    const media = new NfitTestMedia();
    const first = await (async () => {
      await using s = await bootNfitTest({}, media);
      const k = s.kernel;
      const [r0] = regions(k, 'nfit_test.0');
      const a = await createNamespace(k, r0!, { mode: 'raw', size: 8 * MiB, name: 'a' });
      const b = await createNamespace(k, r0!, { mode: 'raw', size: 8 * MiB, name: 'b' });
      return { r0: r0!, a: namespaces(s, r0!).find((n) => n.name === a)!, b };
    })();
    // nfit_test.0 region0 interleaves DIMMs 0x0 and 0x1: corrupt the current index of DIMM 0x0
    const store = media.labels.get('nfit_test.0/0')!;
    const area = new LabelArea(store);
    const { index } = area.validate();
    expect(index).toBeGreaterThanOrEqual(0);
    const at = index * area.nsindexSize + 20;
    store.write(at, new Uint8Array([store.read(at, 1)[0]! ^ 0xff]));

    await using s = await bootNfitTest({}, media, { printk: { loglevel: KERN_DEBUG } });
    const k = s.kernel;
    const found = namespaces(s, first.r0);
    expect(found).toEqual([first.a]);
    expect(k.dmesg().some((l) => l.includes(`nsindex${index} checksum invalid`))).toBe(true);
    expect(k.dmesg().some((l) => l.includes('incomplete or inconsistent label set'))).toBe(true);
  });
});
