/**
 * drivers/base/devres.c: device-managed resources. Actions registered against a device run, newest first,
 * when its driver is unbound or its probe fails (and, here, when it is deleted while unbound).
 */
import { kerr } from '../../errno.js';
import type { Printk } from '../../kernel/printk.js';
import type { Device } from './core.js';

/** The action of devm_add_action(); a promise it returns is awaited (e.g. an SRCU grace period). */
// biome-ignore lint/suspicious/noExplicitAny: the action's data type is erased in the list, as void * is in C.
export type DevresAction<T = any> = (data: T) => unknown;

/** struct action_devres on dev->devres_head. */
export interface DevresNode {
  action: DevresAction;
  data: unknown;
}

/**
 * devm_add_action(): `action(data)` will run when the device's resources are released. Fails (ENODEV, with a
 * warning) only for a device already released, whose resources can never be released again.
 */
export function devmAddAction<T>(log: Printk, dev: Device, action: DevresAction<T>, data?: T): void {
  if (
    log.warn(
      dev.p.released,
      'drivers/base/devres.c:devres_add',
      `${dev.name}: devres added to a released device`,
    )
  )
    throw kerr('ENODEV', 'devm_add_action');
  dev.p.devres.push({ action, data });
}

/** devm_add_action_or_reset(): like devmAddAction, but when adding fails runs `action(data)` before rethrowing. */
export async function devmAddActionOrReset<T>(
  log: Printk,
  dev: Device,
  action: DevresAction<T>,
  data?: T,
): Promise<void> {
  try {
    devmAddAction(log, dev, action, data);
  } catch (e) {
    await action(data as T);
    throw e;
  }
}

/** devm_remove_action(): forgets the newest matching registration without running it; none found warns. */
export function devmRemoveAction<T>(log: Printk, dev: Device, action: DevresAction<T>, data?: T): void {
  const list = dev.p.devres;
  for (let i = list.length - 1; i >= 0; i--) {
    const node = list[i]!;
    if (node.action === action && node.data === data) {
      list.splice(i, 1);
      return;
    }
  }
  log.warn(
    true,
    'drivers/base/devres.c:devm_remove_action',
    'WARN_ON(devres_destroy(dev, devm_action_release, ...))',
  );
}

/**
 * devres_release(): finds the newest node of `action` whose data `match`es, takes it off the list and runs it.
 * False (and nothing run) when there is none.
 */
export async function devresRelease<T>(
  dev: Device,
  action: DevresAction<T>,
  match: (data: T) => boolean,
): Promise<boolean> {
  const list = dev.p.devres;
  for (let i = list.length - 1; i >= 0; i--) {
    const node = list[i]!;
    if (node.action !== action || !match(node.data as T)) continue;
    list.splice(i, 1);
    await node.action(node.data);
    return true;
  }
  return false;
}

/**
 * devres_release_all(): detaches the whole list, then runs its actions in reverse order of registration,
 * awaiting each. An action that throws is reported with a warning and the rest still run.
 */
export async function devresReleaseAll(log: Printk, dev: Device): Promise<void> {
  const nodes = dev.p.devres.splice(0);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    try {
      await node.action(node.data);
    } catch (e) {
      log.warn(
        true,
        'drivers/base/devres.c:release_nodes',
        `${dev.name}: devres action ${node.action.name || '<anonymous>'} failed: ${(e as Error)?.message ?? String(e)}`,
      );
    }
  }
}
