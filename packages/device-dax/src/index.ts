export { type DeviceDax, DeviceDaxDriver, deviceDaxModule } from './device.js';
export { DaxDev, type DaxRegion } from './device-dax.js';
