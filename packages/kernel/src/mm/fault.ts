/**
 * arch/x86/mm/fault.c and the CPU's side of a user memory access: loads and stores walk the page tables; a
 * missing entry raises a page fault, which finds the vma, checks the access against it and runs the generic
 * fault path. An error result becomes a signal for the task (SIGSEGV, SIGBUS, or SIGKILL from the OOM path).
 * Once an entry exists, accesses go straight to the physical memory it maps; a load that meets poisoned memory
 * takes a machine check (arch/x86/kernel/cpu/mcheck) and the task gets SIGBUS with BUS_MCEERR_AR.
 */
import { BUS_ADRERR, BUS_MCEERR_AR, SEGV_ACCERR, SEGV_MAPERR, SignalError } from '../kernel/signal.js';
import { handleMmFault } from './memory.js';
import {
  FAULT_FLAG_WRITE,
  VM_EXEC,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  VM_READ,
  VM_WRITE,
} from './mm_types.js';
import type { MmStruct } from './mmap.js';
import type { PhysicalMemory } from './physmem.js';

/**
 * __do_page_fault() for a user access at `addr`: SIGSEGV (SEGV_MAPERR) outside every vma, SIGSEGV
 * (SEGV_ACCERR) when the vma does not allow the access, else handle_mm_fault() and its signals.
 */
export function doPageFault(mm: MmStruct, addr: number, write: boolean, comm: string): void {
  const vma = mm.findVma(addr);
  if (vma === null || vma.start > addr) throw new SignalError('SIGSEGV', SEGV_MAPERR, addr, comm);
  const allowed = write ? vma.flags & VM_WRITE : vma.flags & (VM_READ | VM_WRITE | VM_EXEC);
  if (!allowed) throw new SignalError('SIGSEGV', SEGV_ACCERR, addr, comm);
  const rc = handleMmFault(vma, addr, write ? FAULT_FLAG_WRITE : 0, mm.faultEvents);
  if (rc & VM_FAULT_OOM) throw new SignalError('SIGKILL', 0, addr, comm);
  if (rc & VM_FAULT_SIGBUS) throw new SignalError('SIGBUS', BUS_ADRERR, addr, comm);
  if (rc & VM_FAULT_SIGSEGV) throw new SignalError('SIGSEGV', SEGV_MAPERR, addr, comm);
}

/**
 * Copies between user addresses [addr, addr+buf.length) and `buf`, page-table entry by entry, faulting in
 * what is not mapped yet. Throws the SignalError a failed fault or a machine check raises; bytes before it
 * were transferred.
 */
export function userAccess(mm: MmStruct, addr: number, buf: Uint8Array, write: boolean, comm: string): void {
  let done = 0;
  while (done < buf.length) {
    const at = addr + done;
    let walk = mm.pgtable.walk(at);
    if (walk === null || (write && !walk.entry.write)) {
      doPageFault(mm, at, write, comm);
      walk = mm.pgtable.walk(at);
      // a fault that "succeeded" without mapping anything would loop for ever in the kernel; stop it here
      if (walk === null || (write && !walk.entry.write))
        throw new SignalError('SIGBUS', BUS_ADRERR, at, comm);
    }
    const off = at - walk.base;
    const n = Math.min(walk.bytes - off, buf.length - done);
    const part = buf.subarray(done, done + n);
    if (write) mm.mem.write(walk.entry.phys + off, part);
    else if (mm.mem.hasPoison) poisonedLoad(mm.mem, walk.entry.phys + off, part, at, comm);
    else mm.mem.read(walk.entry.phys + off, part);
    done += n;
  }
}

/**
 * A load from [phys, phys+dst.length) at user address `addr` when some memory is poisoned: the bytes before the
 * first poisoned line arrive, then the machine check on that line is fatal to the access (do_machine_check ->
 * memory_failure with MF_ACTION_REQUIRED): SIGBUS, BUS_MCEERR_AR, si_addr the user address that met it.
 */
function poisonedLoad(mem: PhysicalMemory, phys: number, dst: Uint8Array, addr: number, comm: string): void {
  const bad = mem.firstPoison(phys, dst.length);
  if (bad < 0) {
    mem.read(phys, dst);
    return;
  }
  mem.read(phys, dst.subarray(0, bad - phys));
  throw new SignalError('SIGBUS', BUS_MCEERR_AR, addr + (bad - phys), comm);
}
