import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BusType } from '../src/drivers/base/bus.js';
import { Device } from '../src/drivers/base/core.js';
import type { DeviceDriver } from '../src/drivers/base/driver.js';
import { kerr } from '../src/errno.js';
import { Kernel } from '../src/kernel.js';

type Op = { t: 'add' | 'del' | 'bind' | 'unbind' | 'drv'; i: number };
const op: fc.Arbitrary<Op> = fc.record({
  t: fc.constantFrom('add', 'del', 'bind', 'unbind', 'drv'),
  i: fc.nat(5),
});

/** Devices whose index is 2 mod 3 refuse the driver (probe fails with ENXIO). */
const refuses = (i: number) => i % 3 === 2;

describe('device model lifecycle (property)', () => {
  it('add/del/bind/unbind/driver (un)register in any order keep sysfs, devres and bindings consistent, and leak nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const kernel = new Kernel();
        const { driverCore: core, sysfs } = kernel;
        const baseline = sysfs.nodeCount;
        const bus: BusType = { name: 'prop' };
        await core.busRegister(bus);
        const root = await core.rootDeviceRegister('prop_root');
        let devres = 0;
        const drv: DeviceDriver = {
          name: 'propdrv',
          bus,
          async probe(dev) {
            core.devmAddAction(dev, () => {
              devres--;
            });
            devres++;
            if (refuses(Number(dev.name.slice(3)))) throw kerr('ENXIO', 'probe');
          },
        };
        let drvRegistered = false;
        const devices = new Map<number, Device>();
        const bound = new Set<number>();

        for (const o of ops) {
          const name = `dev${o.i}`;
          const dev = devices.get(o.i);
          if (o.t === 'add' && dev === undefined) {
            const d = new Device({ name, bus, parent: root, release: () => {} });
            await core.deviceRegister(d);
            devices.set(o.i, d);
            if (drvRegistered && !refuses(o.i)) bound.add(o.i);
          } else if (o.t === 'del' && dev !== undefined) {
            await core.deviceUnregister(dev);
            devices.delete(o.i);
            bound.delete(o.i);
          } else if (o.t === 'bind' && drvRegistered) {
            const ok = dev !== undefined && !bound.has(o.i) && !refuses(o.i);
            const write = sysfs.write('/sys/bus/prop/drivers/propdrv/bind', `${name}\n`);
            if (ok) {
              await write;
              bound.add(o.i);
            } else await expect(write).rejects.toMatchObject({ code: 'ENODEV' });
          } else if (o.t === 'unbind' && drvRegistered) {
            const write = sysfs.write('/sys/bus/prop/drivers/propdrv/unbind', name);
            if (bound.has(o.i)) {
              await write;
              bound.delete(o.i);
            } else await expect(write).rejects.toMatchObject({ code: 'ENODEV' });
          } else if (o.t === 'drv') {
            if (drvRegistered) {
              await core.driverUnregister(drv);
              bound.clear();
            } else {
              await core.driverRegister(drv);
              for (const i of devices.keys()) if (!refuses(i)) bound.add(i);
            }
            drvRegistered = !drvRegistered;
          }

          expect(devres).toBe(bound.size);
          expect(sysfs.readdir('/sys/bus/prop/devices')).toEqual(
            [...devices.keys()].map((i) => `dev${i}`).sort(),
          );
          for (const [i, d] of devices) {
            expect(d.driver === drv).toBe(bound.has(i));
            expect(sysfs.exists(`/sys/devices/prop_root/dev${i}/driver`)).toBe(bound.has(i));
            expect(sysfs.exists(`/sys/bus/prop/drivers/propdrv/dev${i}`)).toBe(bound.has(i));
          }
        }

        for (const d of devices.values()) await core.deviceUnregister(d);
        if (drvRegistered) await core.driverUnregister(drv);
        await core.rootDeviceUnregister(root);
        await core.busUnregister(bus);
        expect(devres).toBe(0);
        expect(core.liveDeviceCount).toBe(0);
        expect(sysfs.nodeCount).toBe(baseline);
        expect(kernel.log.warnings).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
