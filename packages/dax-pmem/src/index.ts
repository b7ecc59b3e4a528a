export { DaxPmem, daxPmemModule } from './pmem.js';
