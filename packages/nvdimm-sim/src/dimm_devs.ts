/**
 * drivers/nvdimm/dimm_devs.c: nmemN devices (nvdimm_create), their sysfs attributes, and the label-area
 * accessors the DIMM driver uses (nvdimm_init_nsarea, nvdimm_init_config_data, nvdimm_set_config_data).
 */
import { type AttributeGroup, type Device, kerr } from '@daxsim/kernel';
import {
  ND_CMD_GET_CONFIG_DATA,
  ND_CMD_GET_CONFIG_SIZE,
  ND_CMD_SET_CONFIG_DATA,
  Nvdimm,
  type NvdimmBus,
} from './nd.js';

/** The command names ndctl reads from nmemN/commands (nvdimm_cmd_name()). */
export const DIMM_CMD_NAMES: Record<number, string> = {
  1: 'smart',
  2: 'smart_thresh',
  3: 'flags',
  4: 'get_size',
  5: 'get_data',
  6: 'set_data',
  7: 'effect_size',
  8: 'effect_log',
  9: 'vendor',
  10: 'cmd_call',
};

/** The bus command names for ndbusN/commands (nvdimm_bus_cmd_name()). */
export const BUS_CMD_NAMES: Record<number, string> = {
  1: 'ars_cap',
  2: 'ars_start',
  3: 'ars_status',
  4: 'clear_error',
  10: 'cmd_call',
};

/** commands_show(): "name " for each bit set in `mask`, then "\n" (the kernel leaves the trailing space). */
export function commandsShow(mask: number, names: Record<number, string>): string {
  let out = '';
  for (let cmd = 0; cmd < 32; cmd++)
    if (mask & (1 << cmd) && names[cmd] !== undefined) out += `${names[cmd]} `;
  return `${out}\n`;
}

/** The libnvdimm services the DIMM attributes need. */
export interface DimmContext {
  nvdimmOf(dev: Device): Nvdimm;
  /** Whether an enabled region maps the DIMM (nmemN/state "active"). */
  dimmActive(nvdimm: Nvdimm): boolean;
}

/** nvdimm_attribute_group plus the provider's nfit/ group. */
export function nvdimmAttributeGroups(ctx: DimmContext): AttributeGroup[] {
  return [
    {
      attrs: [
        {
          name: 'commands',
          mode: 0o444,
          show: (dev) => commandsShow(ctx.nvdimmOf(dev).cmdMask, DIMM_CMD_NAMES),
        },
        {
          name: 'state',
          mode: 0o444,
          show: (dev) => (ctx.dimmActive(ctx.nvdimmOf(dev)) ? 'active\n' : 'idle\n'),
        },
        {
          name: 'available_slots',
          mode: 0o444,
          show: (dev) => {
            const ndd = ctx.nvdimmOf(dev).ndd;
            if (ndd === null) throw kerr('ENXIO', 'available_slots');
            return `${Math.max((ndd.labels?.freeSlots() ?? 0) - 1, 0)}\n`;
          },
        },
      ],
    },
  ];
}

/**
 * nvdimm_create(): an nmemN device on `bus` with dev_t `devt` (MKDEV(nvdimm_major, id): the driver core makes
 * its /dev/nmemN node), registered by the caller with ndDeviceRegister.
 */
export function nvdimmCreate(
  bus: NvdimmBus,
  id: number,
  provider: Nvdimm['provider'],
  cmdMask: number,
  groups: AttributeGroup[],
  release: () => void,
  devt = 0,
): Nvdimm {
  const nvdimm = new Nvdimm(bus, id, provider, cmdMask);
  nvdimm.dev.devt = devt;
  nvdimm.dev.parent = bus.dev;
  nvdimm.dev.groups = groups;
  nvdimm.dev.release = release;
  return nvdimm;
}

/** nvdimm_init_nsarea(): the label area size, or 0 when the DIMM has no label commands. */
export function nvdimmInitNsarea(nvdimm: Nvdimm): number {
  if (!(nvdimm.cmdMask & (1 << ND_CMD_GET_CONFIG_SIZE))) return 0;
  const out = nvdimm.bus.desc.ndctl(nvdimm, { cmd: 'get_config_size' }) as {
    configSize: number;
    maxXfer: number;
  };
  return out.configSize;
}

/** nvdimm_init_config_data(): the whole label area, read in firmware-sized transfers. */
export function nvdimmInitConfigData(nvdimm: Nvdimm, size: number): Uint8Array {
  if (!(nvdimm.cmdMask & (1 << ND_CMD_GET_CONFIG_DATA))) throw kerr('ENXIO', 'nvdimm_init_config_data');
  const data = nvdimm.bus.desc.ndctl(nvdimm, {
    cmd: 'get_config_data',
    offset: 0,
    length: size,
  }) as Uint8Array;
  if (data.length !== size) throw kerr('EIO', 'nvdimm_init_config_data');
  return new Uint8Array(data);
}

/** nvdimm_set_config_data(): writes `data` to the label area at `offset`. */
export function nvdimmSetConfigData(nvdimm: Nvdimm, offset: number, data: Uint8Array): void {
  if (!(nvdimm.cmdMask & (1 << ND_CMD_SET_CONFIG_DATA))) throw kerr('ENXIO', 'nvdimm_set_config_data');
  nvdimm.bus.desc.ndctl(nvdimm, { cmd: 'set_config_data', offset, data });
}
