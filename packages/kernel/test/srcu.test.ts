import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Printk } from '../src/kernel/printk.js';
import { SrcuStruct } from '../src/kernel/rcu/srcu.js';
import { Rcu } from '../src/kernel/rcu/tree.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('SRCU (kernel/rcu/srcu.c)', () => {
  it('synchronize waits for a reader that holds the lock across an await', async () => {
    const srcu = new SrcuStruct(new Printk(), 'test');
    const events: string[] = [];
    const reader = (async () => {
      const idx = srcu.readLock();
      events.push('reader in');
      await tick();
      await tick();
      events.push('reader out');
      srcu.readUnlock(idx);
    })();
    const sync = srcu.synchronize().then(() => events.push('synchronized'));
    await Promise.all([reader, sync]);
    expect(events).toEqual(['reader in', 'reader out', 'synchronized']);
  });

  it('does not wait for readers that enter after synchronize started', async () => {
    const srcu = new SrcuStruct(new Printk(), 'test');
    const early = srcu.readLock();
    let done = false;
    const sync = srcu.synchronize().then(() => {
      done = true;
    });
    const late = srcu.readLock();
    srcu.readUnlock(early);
    await sync;
    expect(done).toBe(true);
    expect(srcu.readers).toBe(1);
    srcu.readUnlock(late);
    expect(srcu.readers).toBe(0);
  });

  it('resolves at once when no reader is inside', async () => {
    const srcu = new SrcuStruct(new Printk(), 'test');
    await expect(srcu.synchronize()).resolves.toBeUndefined();
  });

  it('unbalanced unlock warns and changes nothing', () => {
    const log = new Printk();
    const srcu = new SrcuStruct(log, 'test');
    const idx = srcu.readLock();
    srcu.readUnlock(idx + 5);
    expect(log.warnings).toBe(1);
    expect(srcu.readers).toBe(1);
    expect(log.dmesg().join('\n')).toContain('unbalanced srcu_read_unlock');
  });

  it('cleanup with an active reader warns', () => {
    const log = new Printk();
    const srcu = new SrcuStruct(log, 'test');
    srcu.readLock();
    srcu.cleanup();
    expect(log.warnings).toBe(1);
  });

  it('property: a synchronize resolves exactly when every reader that entered before it has left', async () => {
    // Ops: 'L' lock, 'U<k>' unlock the k-th live reader, 'S' start a synchronize.
    const op = fc.oneof(
      fc.constant({ t: 'L' as const }),
      fc.constant({ t: 'S' as const }),
      fc.nat(20).map((k) => ({ t: 'U' as const, k })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const srcu = new SrcuStruct(new Printk(), 'prop');
        let nextId = 0;
        const live: { id: number; idx: number }[] = [];
        const syncs: { before: Set<number>; done: boolean }[] = [];
        for (const o of ops) {
          if (o.t === 'L') live.push({ id: nextId++, idx: srcu.readLock() });
          else if (o.t === 'S') {
            const s = { before: new Set(live.map((r) => r.id)), done: false };
            syncs.push(s);
            void srcu.synchronize().then(() => {
              s.done = true;
            });
          } else if (live.length > 0) {
            const [r] = live.splice(o.k % live.length, 1);
            srcu.readUnlock(r!.idx);
          }
          await Promise.resolve();
          await Promise.resolve();
          const liveIds = new Set(live.map((r) => r.id));
          for (const s of syncs) {
            const waiting = [...s.before].some((id) => liveIds.has(id));
            expect(s.done).toBe(!waiting);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('RCU (kernel/rcu/tree.c)', () => {
  it('call_rcu callbacks run only after a grace period, in order', async () => {
    const rcu = new Rcu(new Printk());
    const ran: number[] = [];
    rcu.callRcu(() => ran.push(1));
    rcu.callRcu(() => ran.push(2));
    expect(ran).toEqual([]);
    expect(rcu.pendingCallbacks).toBe(2);
    await rcu.synchronizeRcu();
    expect(ran).toEqual([1, 2]);
    expect(rcu.pendingCallbacks).toBe(0);
  });

  it('a grace period does not end while a reader is inside, and that misuse warns once', async () => {
    const log = new Printk();
    const rcu = new Rcu(log);
    let ended = false;
    rcu.readLock();
    const gp = rcu.synchronizeRcu().then(() => {
      ended = true;
    });
    await tick();
    await tick();
    expect(ended).toBe(false);
    rcu.readUnlock();
    await gp;
    expect(ended).toBe(true);
    expect(log.warnings).toBe(1);
  });

  it('rcu_barrier waits for callbacks queued by callbacks', async () => {
    const rcu = new Rcu(new Printk());
    const ran: string[] = [];
    rcu.callRcu(() => {
      ran.push('a');
      rcu.callRcu(() => ran.push('b'));
    });
    await rcu.barrier();
    expect(ran).toEqual(['a', 'b']);
  });

  it('unlock without lock warns', () => {
    const log = new Printk();
    const rcu = new Rcu(log);
    rcu.readUnlock();
    expect(log.warnings).toBe(1);
    expect(rcu.readLockHeld()).toBe(false);
  });
});
