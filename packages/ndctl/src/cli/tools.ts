/**
 * The command tables of ndctl (ndctl/ndctl.c's commands[]) and daxctl (daxctl/daxctl.c's), and their main():
 * the command name picks the builtin; `--version`, `version`, `help` and `--help` are answered here, and an
 * unknown command is "Unknown command: '<name>'" with exit status 1, as main_handle_internal_command's caller
 * prints it.
 */
import type { ToolCommand, ToolContext } from '../context.js';
import { cmdDisableDevice, cmdEnableDevice } from '../daxctl/device.js';
import { cmdDaxctlList } from '../daxctl/list.js';
import { cmdStartScrub, cmdWaitScrub } from '../ndctl/bus.js';
import { cmdClearErrors } from '../ndctl/clear_errors.js';
import { cmdInitLabels, cmdReadLabels, cmdZeroLabels } from '../ndctl/dimm.js';
import { cmdInjectError } from '../ndctl/inject_error.js';
import { cmdList } from '../ndctl/list.js';
import {
  cmdCreateNamespace,
  cmdDestroyNamespace,
  cmdDisableNamespace,
  cmdEnableNamespace,
} from '../ndctl/namespace.js';
import { cmdDisableRegion, cmdEnableRegion } from '../ndctl/region.js';

/** The ndctl version daxsim's ndctl follows (its option set, JSON and messages). */
export const NDCTL_VERSION = '78';

export const ndctlCommands: Readonly<Record<string, ToolCommand>> = {
  'enable-namespace': cmdEnableNamespace,
  'disable-namespace': cmdDisableNamespace,
  'create-namespace': cmdCreateNamespace,
  'destroy-namespace': cmdDestroyNamespace,
  'clear-errors': cmdClearErrors,
  'enable-region': cmdEnableRegion,
  'disable-region': cmdDisableRegion,
  'zero-labels': cmdZeroLabels,
  'read-labels': cmdReadLabels,
  'init-labels': cmdInitLabels,
  'inject-error': cmdInjectError,
  'start-scrub': cmdStartScrub,
  'wait-scrub': cmdWaitScrub,
  list: cmdList,
};

/** Commands real ndctl has that this model does not (BLK, BTT, security, firmware update, monitor...). */
const ndctlUnsupported = [
  'check-namespace',
  'enable-dimm',
  'disable-dimm',
  'write-labels',
  'check-labels',
  'update-firmware',
  'inject-smart',
  'wait-overwrite',
  'setup-passphrase',
  'update-passphrase',
  'remove-passphrase',
  'freeze-security',
  'sanitize-dimm',
  'load-keys',
  'monitor',
  'activate-firmware',
];

export const daxctlCommands: Readonly<Record<string, ToolCommand>> = {
  list: cmdDaxctlList,
  'enable-device': cmdEnableDevice,
  'disable-device': cmdDisableDevice,
};

const daxctlUnsupported = [
  'migrate-device-model',
  'create-device',
  'destroy-device',
  'reconfigure-device',
  'online-memory',
  'offline-memory',
];

function helpText(prog: string, table: Readonly<Record<string, ToolCommand>>): string {
  return `\n usage: ${prog} [--version] [--help] COMMAND [ARGS]\n\n Commands:\n${Object.keys(table)
    .sort()
    .map((c) => `   ${c}\n`)
    .join('')}\n`;
}

async function toolMain(
  prog: string,
  version: string,
  table: Readonly<Record<string, ToolCommand>>,
  unsupported: readonly string[],
  ctx: ToolContext,
  argv: string[],
): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    ctx.stdout(helpText(prog, table));
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === '--version' || cmd === 'version') {
    ctx.stdout(`${version}\n`);
    return 0;
  }
  const fn = table[cmd];
  if (fn !== undefined) return fn(ctx, rest);
  if (unsupported.includes(cmd)) {
    ctx.stderr(`${prog}: '${cmd}' is not modelled by daxsim\n`);
    return 1;
  }
  ctx.stderr(`Unknown command: '${cmd}'\n`);
  return 1;
}

/** ndctl's main(). */
export function ndctlMain(ctx: ToolContext, argv: string[]): Promise<number> {
  return toolMain('ndctl', NDCTL_VERSION, ndctlCommands, ndctlUnsupported, ctx, argv);
}

/** daxctl's main(). */
export function daxctlMain(ctx: ToolContext, argv: string[]): Promise<number> {
  return toolMain('daxctl', NDCTL_VERSION, daxctlCommands, daxctlUnsupported, ctx, argv);
}
