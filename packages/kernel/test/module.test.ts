import { describe, expect, it } from 'vitest';
import type { ModuleDefinition } from '../src/kernel/module.js';
import { Kernel } from '../src/kernel.js';

interface BaseApi {
  hello(): string;
}

function defs(events: string[]) {
  const base: ModuleDefinition<{ nr: number; flag: boolean }, BaseApi> = {
    name: 'base',
    params: {
      nr: { default: 4, perm: 0o444, description: 'a number' },
      flag: { default: false, perm: 0o644, description: 'a flag' },
    },
    init(ctx) {
      ctx.params.nr = Math.max(ctx.params.nr, 8);
      events.push(`base init nr=${ctx.params.nr}`);
      return { hello: () => 'hi' };
    },
    exit() {
      events.push('base exit');
    },
  };
  const user: ModuleDefinition<Record<string, never>, { greet(): string }> = {
    name: 'user',
    requires: [base],
    init(ctx) {
      const b = ctx.symbols(base);
      events.push('user init');
      return { greet: () => `${b.hello()}!` };
    },
    async exit() {
      await new Promise((r) => setImmediate(r));
      events.push('user exit');
    },
  };
  return { base, user };
}

describe('module loader (kernel/module.c)', () => {
  it('insmod refuses a module whose dependency is not loaded, modprobe loads it', async () => {
    const k = new Kernel();
    const events: string[] = [];
    const { user } = defs(events);
    await expect(k.modules.insmod(user)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'init_module' });
    expect(k.modules.list()).toEqual([]);
    const api = await k.modules.modprobe(user);
    expect(api.greet()).toBe('hi!');
    expect(events).toEqual(['base init nr=8', 'user init']);
    expect(k.modules.list()).toEqual(['user', 'base']);
    expect(k.sysfs.read('/sys/module/base/parameters/nr')).toBe('8\n');
    expect(k.sysfs.read('/sys/module/base/parameters/flag')).toBe('N\n');
    expect(k.sysfs.read('/sys/module/base/refcnt')).toBe('1\n');
    expect(k.sysfs.readdir('/sys/module/base/holders')).toEqual(['user']);
    expect(k.modules.procModules()).toContain('base 16384 1 user, Live');
  });

  it('rmmod is refused while used, and exit undoes init', async () => {
    const k = new Kernel();
    const events: string[] = [];
    const { user } = defs(events);
    const nodes = k.sysfs.nodeCount;
    await k.modules.modprobe(user);
    await expect(k.modules.rmmod('base')).rejects.toMatchObject({ code: 'EWOULDBLOCK', errno: -11 });
    const mod = k.modules.find('user')!;
    expect(k.modules.tryModuleGet(mod)).toBe(true);
    await expect(k.modules.rmmod(user)).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    k.modules.modulePut(mod);
    await k.modules.rmmod(user);
    await k.modules.rmmod('base');
    expect(events.slice(-2)).toEqual(['user exit', 'base exit']);
    expect(k.modules.list()).toEqual([]);
    expect(k.sysfs.nodeCount).toBe(nodes);
    await expect(k.modules.rmmod('base')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('sysfs shows the module as coming during init, and rmmod removes its holder link', async () => {
    const k = new Kernel();
    const { base } = defs([]);
    let seen = '';
    const probe: ModuleDefinition<{ level: number }, void> = {
      name: 'probe',
      requires: [base],
      params: { level: { default: 3, perm: 0o644, description: 'a level' } },
      init() {
        seen = `${k.sysfs.read('/sys/module/probe/initstate')}|${k.sysfs.read('/sys/module/probe/parameters/level')}`;
      },
    };
    await k.modules.modprobe(probe, { level: 7 });
    expect(seen).toBe('coming\n|7\n');
    expect(k.sysfs.read('/sys/module/probe/initstate')).toBe('live\n');
    expect(k.sysfs.readdir('/sys/module/base/holders')).toEqual(['probe']);
    await k.modules.rmmod('probe');
    expect(k.sysfs.readdir('/sys/module/base/holders')).toEqual([]);
    expect(k.sysfs.read('/sys/module/base/refcnt')).toBe('0\n');
  });

  it('rejects a double load, unknown and mistyped parameters, and leaves nothing', async () => {
    const k = new Kernel();
    const { base } = defs([]);
    await expect(k.modules.insmod(base, { bogus: 1 } as never)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(k.modules.insmod(base, { nr: 'x' } as never)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(k.modules.insmod(base, { nr: 1.5 })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(k.modules.list()).toEqual([]);
    await k.modules.insmod(base, { nr: 100 });
    expect(k.sysfs.read('/sys/module/base/parameters/nr')).toBe('100\n');
    await expect(k.modules.insmod(base)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(k.dmesg().join('\n')).toContain("base: Unknown parameter `bogus'");
  });

  it('a failing init leaves the module unloaded and its dependency unpinned', async () => {
    const k = new Kernel();
    const { base } = defs([]);
    const bad: ModuleDefinition<Record<string, never>, void> = {
      name: 'bad',
      requires: [base],
      init() {
        throw Object.assign(new Error('ENOMEM'), { code: 'ENOMEM', errno: -12 });
      },
    };
    await expect(k.modules.modprobe(bad)).rejects.toMatchObject({ code: 'ENOMEM' });
    expect(k.modules.list()).toEqual(['base']);
    expect(k.modules.find('base')!.holders.size).toBe(0);
    expect(k.sysfs.exists('/sys/module/bad')).toBe(false);
    await k.modules.rmmod('base');
  });

  it('try_module_get fails for modules not live; module_put without get warns', async () => {
    const k = new Kernel();
    const { base } = defs([]);
    await k.modules.insmod(base);
    const mod = k.modules.find('base')!;
    k.modules.modulePut(mod);
    expect(k.log.warnings).toBe(1);
    mod.state = 'going';
    expect(k.modules.tryModuleGet(mod)).toBe(false);
    expect(k.modules.tryModuleGet(null)).toBe(true);
  });
});
