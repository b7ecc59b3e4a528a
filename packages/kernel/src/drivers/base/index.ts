/** drivers/base: the Linux device model's public API. */

export { Kobject, type KobjectRelease } from '../../lib/kobject.js';
export type { BusAttribute, BusType } from './bus.js';
export type { Class } from './class.js';
export {
  type Attribute,
  type AttributeGroup,
  Device,
  type DeviceAttribute,
  type DeviceInit,
  DeviceMutex,
  type DevicePrivate,
  type DeviceType,
  devAttrDriverOverride,
  sysfsStreq,
} from './core.js';
export type { DevresAction } from './devres.js';
export { Devtmpfs } from './devtmpfs.js';
export type { DeviceDriver, DriverAttribute } from './driver.js';
export { DriverCore } from './driver_core.js';
