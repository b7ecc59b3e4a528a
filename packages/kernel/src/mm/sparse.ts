/**
 * Sparse backing for simulated memory, in the spirit of SPARSEMEM (mm/sparse.c): host memory exists only for
 * the chunks that have been written, so a terabyte of device memory costs nothing until it is touched. Reads
 * of unwritten chunks see zeroes.
 */

/** Host memory behind a range of physical addresses, addressed by offset into the range. */
export interface MemoryBacking {
  /** Copies `dst.length` bytes from offset `off` into `dst`. */
  read(off: number, dst: Uint8Array): void;
  /** Copies `src` to offset `off`. */
  write(off: number, src: Uint8Array): void;
  /** Returns `len` bytes from `off` to zero, releasing whole chunks. */
  discard(off: number, len: number): void;
  /** Host bytes held. */
  readonly allocatedBytes: number;
}

/** Granule of allocation: a write anywhere inside a chunk allocates the whole chunk. */
export const SPARSE_CHUNK_SHIFT = 16;
export const SPARSE_CHUNK_SIZE = 1 << SPARSE_CHUNK_SHIFT;

const ZERO_CHUNK = Buffer.alloc(SPARSE_CHUNK_SIZE);

/** Whether `buf` (at most one chunk long) is all zeroes, compared natively against a zero chunk. */
function isZero(buf: Uint8Array): boolean {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.length).equals(ZERO_CHUNK.subarray(0, buf.length));
}

/** Chunked memory allocated on first non-zero write; writing zeroes to an absent chunk allocates nothing. */
export class SparseBacking implements MemoryBacking {
  readonly #chunks = new Map<number, Uint8Array>();

  read(off: number, dst: Uint8Array): void {
    this.#pieces(off, dst.length, (chunk, _idx, inChunk, from, n) => {
      const part = dst.subarray(from, from + n);
      if (chunk === undefined) part.fill(0);
      else part.set(chunk.subarray(inChunk, inChunk + n));
    });
  }

  write(off: number, src: Uint8Array): void {
    this.#pieces(off, src.length, (chunk, idx, inChunk, from, n) => {
      const part = src.subarray(from, from + n);
      if (chunk === undefined) {
        if (isZero(part)) return;
        chunk = new Uint8Array(SPARSE_CHUNK_SIZE);
        this.#chunks.set(idx, chunk);
      }
      chunk.set(part, inChunk);
    });
  }

  discard(off: number, len: number): void {
    this.#pieces(off, len, (chunk, idx, inChunk, _from, n) => {
      if (n === SPARSE_CHUNK_SIZE) this.#chunks.delete(idx);
      else chunk?.fill(0, inChunk, inChunk + n);
    });
  }

  /** Calls `fn` for each chunk piece of [off, off+len): the chunk (if allocated), its index, the offset in it,
   * the offset into the caller's buffer and the piece's length. */
  #pieces(
    off: number,
    len: number,
    fn: (chunk: Uint8Array | undefined, idx: number, inChunk: number, from: number, n: number) => void,
  ): void {
    let done = 0;
    while (done < len) {
      const at = off + done;
      const idx = Math.floor(at / SPARSE_CHUNK_SIZE);
      const inChunk = at - idx * SPARSE_CHUNK_SIZE;
      const n = Math.min(SPARSE_CHUNK_SIZE - inChunk, len - done);
      fn(this.#chunks.get(idx), idx, inChunk, done, n);
      done += n;
    }
  }

  get allocatedBytes(): number {
    return this.#chunks.size * SPARSE_CHUNK_SIZE;
  }

  /** Offsets of the allocated chunks, ascending (what a file-backed store persists). */
  chunkOffsets(): number[] {
    return [...this.#chunks.keys()].sort((a, b) => a - b).map((i) => i * SPARSE_CHUNK_SIZE);
  }
}
