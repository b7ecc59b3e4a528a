import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyModuleDefinition, ModuleDefinition } from '../src/kernel/module.js';
import { Kernel } from '../src/kernel.js';

const a: ModuleDefinition<Record<string, never>, string> = { name: 'a', init: () => 'A' };
const b: ModuleDefinition<Record<string, never>, string> = {
  name: 'b',
  requires: [a],
  init: (ctx) => `${ctx.symbols(a)}B`,
};
const c: ModuleDefinition<Record<string, never>, string> = {
  name: 'c',
  requires: [b],
  init: (ctx) => `${ctx.symbols(b)}C`,
};
const mods: AnyModuleDefinition[] = [a, b, c];

type Op = { t: 'insmod' | 'modprobe' | 'rmmod' | 'get' | 'put'; m: number };
const op = fc.record({
  t: fc.constantFrom('insmod', 'modprobe', 'rmmod', 'get', 'put'),
  m: fc.nat(2),
}) as fc.Arbitrary<Op>;

describe('module loader lifecycle (property)', () => {
  it('insmod, modprobe, rmmod and module references follow dependencies in any order, and unload leaves nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const k = new Kernel();
        const baseline = k.sysfs.nodeCount;
        const loaded = new Set<number>();
        const refs = [0, 0, 0];
        const deps = (m: number) => (m === 0 ? [] : [m - 1]);
        const holders = (m: number) => (m < 2 && loaded.has(m + 1) ? 1 : 0);
        for (const o of ops) {
          const def = mods[o.m] as ModuleDefinition<Record<string, never>, string>;
          if (o.t === 'insmod') {
            const p = k.modules.insmod(def);
            if (loaded.has(o.m)) await expect(p).rejects.toMatchObject({ code: 'EEXIST' });
            else if (deps(o.m).some((d) => !loaded.has(d)))
              await expect(p).rejects.toMatchObject({ code: 'ENOENT' });
            else {
              await p;
              loaded.add(o.m);
            }
          } else if (o.t === 'modprobe') {
            expect(await k.modules.modprobe(def)).toBe('ABC'.slice(0, o.m + 1));
            for (let m = 0; m <= o.m; m++) loaded.add(m);
          } else if (o.t === 'rmmod') {
            const p = k.modules.rmmod(def.name);
            if (!loaded.has(o.m)) await expect(p).rejects.toMatchObject({ code: 'ENOENT' });
            else if (holders(o.m) > 0 || refs[o.m]! > 0)
              await expect(p).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
            else {
              await p;
              loaded.delete(o.m);
            }
          } else if (o.t === 'get' && loaded.has(o.m)) {
            expect(k.modules.tryModuleGet(k.modules.find(def.name))).toBe(true);
            refs[o.m]!++;
          } else if (o.t === 'put' && loaded.has(o.m) && refs[o.m]! > 0) {
            k.modules.modulePut(k.modules.find(def.name));
            refs[o.m]!--;
          }
          expect(k.sysfs.readdir('/sys/module').sort()).toEqual([...loaded].map((m) => mods[m]!.name).sort());
          for (const m of loaded) {
            expect(k.sysfs.read(`/sys/module/${mods[m]!.name}/refcnt`)).toBe(`${holders(m) + refs[m]!}\n`);
            expect(k.sysfs.readdir(`/sys/module/${mods[m]!.name}/holders`)).toEqual(
              holders(m) ? [mods[m + 1]!.name] : [],
            );
          }
        }
        for (const m of [2, 1, 0]) {
          if (!loaded.has(m)) continue;
          for (; refs[m]! > 0; refs[m]!--) k.modules.modulePut(k.modules.find(mods[m]!.name));
          await k.modules.rmmod(mods[m]!.name);
        }
        expect(k.modules.list()).toEqual([]);
        expect(k.sysfs.nodeCount).toBe(baseline);
        expect(k.log.warnings).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
