/**
 * libndctl's scrub calls (ndctl/lib/libndctl.c): the kernel's view of address range scrub through an nfit
 * bus's nfit/scrub attribute ("<count>" when idle, "<count>+" while scrubbing), starting one, and waiting for
 * one to finish.
 *
 * Waiting: the C poll()s the attribute for a sysfs notification, with timeouts in seconds. Here a wait lets the
 * kernel's queued work and pending I/O run (one turn of the event loop); a second is TURNS_PER_SECOND turns.
 * An unbounded wait gives up after SCRUB_WAIT_LIMIT turns with -ETIMEDOUT rather than hang.
 */
import type { Kernel } from '@daxsim/kernel';
import type { NdBus } from './libndctl.js';
import { neg } from './namespace_config.js';
import { sysfsWriteAttr } from './sysfs.js';

/** The turns an unbounded wait takes before it gives up. */
export const SCRUB_WAIT_LIMIT = 10_000;
/** The event-loop turns that stand for one second of waiting. */
export const TURNS_PER_SECOND = 64;

const scrubPath = (bus: NdBus) => `${bus.path}/nfit/scrub`;

/** One poll() wake-up: the kernel's queued work runs, then the event loop turns once. */
export async function scrubPollTick(k: Kernel): Promise<void> {
  await k.async.synchronizeFull();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** __ndctl_bus_get_scrub_state(): the count and whether a scrub runs; -EOPNOTSUPP / -ENXIO when unreadable. */
function scrubState(bus: NdBus): { count: number; active: boolean } | number {
  if (!bus.hasNfit) return neg('EOPNOTSUPP');
  let text: string;
  try {
    text = bus.kernel.sysfs.read(scrubPath(bus)).replace(/\n$/, '');
  } catch {
    return neg('EOPNOTSUPP');
  }
  const m = /^\s*(\d+)(.?)/.exec(text);
  if (m === null) return neg('ENXIO');
  if (m[2] === '') return { count: Number(m[1]), active: false };
  return m[2] === '+' ? { count: Number(m[1]), active: true } : neg('ENXIO');
}

/** ndctl_bus_get_scrub_state(): 1 while a scrub runs, 0 when idle, else a negative errno. */
export function ndctlBusGetScrubState(bus: NdBus): number {
  const s = scrubState(bus);
  return typeof s === 'number' ? s : s.active ? 1 : 0;
}

/** ndctl_bus_get_scrub_count(): the completed scrubs, or null where ndctl gets UINT_MAX. */
export function ndctlBusGetScrubCount(bus: NdBus): number | null {
  const s = scrubState(bus);
  return typeof s === 'number' ? null : s.count;
}

/**
 * ndctl_bus_poll_scrub_completion(): waits until the bus reports no scrub in progress, for at most `timeout`
 * seconds (0: no limit). The poll interval only paces the C's wake-ups. 0, -ETIMEDOUT or -EOPNOTSUPP.
 */
export async function ndctlBusPollScrubCompletion(
  bus: NdBus,
  _pollInterval: number,
  timeout: number,
): Promise<number> {
  const limit = timeout === 0 ? SCRUB_WAIT_LIMIT : timeout * TURNS_PER_SECOND;
  for (let waited = 0; ; waited++) {
    const s = scrubState(bus);
    if (typeof s === 'number') return neg('EOPNOTSUPP');
    if (!s.active) return 0;
    if (waited >= limit) return neg('ETIMEDOUT');
    await scrubPollTick(bus.kernel);
  }
}

/** ndctl_bus_wait_for_scrub_completion(). */
export function ndctlBusWaitForScrubCompletion(bus: NdBus): Promise<number> {
  return ndctlBusPollScrubCompletion(bus, 0, 0);
}

/**
 * ndctl_bus_start_scrub(): writes 1 to nfit/scrub; when the kernel is busy, waits one poll cycle for an idle
 * bus and tries once more. 0 or the write's negative errno (-EOPNOTSUPP without nfit/scrub).
 */
export async function ndctlBusStartScrub(bus: NdBus): Promise<number> {
  if (!bus.hasNfit) return neg('EOPNOTSUPP');
  const write = () => sysfsWriteAttr(bus.kernel, scrubPath(bus), '1\n');
  const rc = await write();
  if (rc === neg('EBUSY') && (await ndctlBusPollScrubCompletion(bus, 1, 1)) === 0) return write();
  return rc;
}
