/**
 * drivers/nvdimm/dimm.c: the nvdimm driver. Probe reads the DIMM's label area through the provider's
 * config-data commands, validates its index blocks and reserves the active labels' DPA ranges (EBUSY when two
 * collide); a DIMM without label commands is label-less.
 */
import { type Device, kerr, type Module } from '@daxsim/kernel';
import { nvdimmInitConfigData, nvdimmInitNsarea, nvdimmSetConfigData } from './dimm_devs.js';
import { LabelArea } from './label.js';
import type { Libnvdimm } from './libnvdimm.js';
import { ND_DRIVER_DIMM, type NdDeviceDriver, NvdimmDrvdata } from './nd.js';

/**
 * nvdimm_probe(): ndd with the label area cached, or a probe failure with the firmware's errno, or EBUSY from
 * nd_label_reserve_dpa() when the current labels' DPA ranges overlap.
 */
async function nvdimmProbe(nd: Libnvdimm, dev: Device): Promise<void> {
  const nvdimm = nd.toNvdimm(dev);
  const size = nvdimmInitNsarea(nvdimm);
  nvdimm.configSize = size;
  if (size === 0) {
    nvdimm.ndd = new NvdimmDrvdata(nvdimm, null);
    return;
  }
  if (nd.kernel.faultInject.should('nvdimm_init_config_data'))
    throw kerr('ENOMEM', 'nvdimm_init_config_data');
  const data = nvdimmInitConfigData(nvdimm, size);
  const area = new LabelArea(
    {
      size,
      read: (offset, length) => data.slice(offset, offset + length),
      write: (offset, bytes) => {
        if (nd.kernel.faultInject.should('nvdimm_set_config_data'))
          throw kerr('ENOMEM', 'nvdimm_set_config_data');
        nvdimmSetConfigData(nvdimm, offset, bytes);
        data.set(bytes, offset);
      },
    },
    { dbg: (msg) => nd.core.devDbg(dev, msg) },
  );
  if (area.validate().index < 0) nd.core.devDbg(dev, 'no valid label index');
  else area.reserveDpa();
  nd.core.devDbg(dev, `config data size: ${size}`);
  nvdimm.ndd = new NvdimmDrvdata(nvdimm, area);
}

/** nvdimm_remove(): the drvdata stays while a bound region still uses it (put_ndd). */
function nvdimmRemove(nd: Libnvdimm, dev: Device): void {
  const nvdimm = nd.toNvdimm(dev);
  if (!nd.dimmInUse(nvdimm)) nvdimm.ndd = null;
}

export function nvdimmDriver(nd: Libnvdimm, owner: Module): NdDeviceDriver {
  return {
    drv: { name: 'nvdimm', bus: nd.ndBus.busType, owner },
    type: ND_DRIVER_DIMM,
    probe: (dev) => nvdimmProbe(nd, dev),
    remove: (dev) => nvdimmRemove(nd, dev),
  };
}
