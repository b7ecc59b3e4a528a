/**
 * drivers/base/devtmpfs.c: the /dev nodes the driver core creates for devices with a dev_t as they are added,
 * and deletes as they are removed.
 */

interface DevNode {
  devt: number;
  mode: number;
}

function nodeName(path: string): string {
  return path.replace(/^\/dev\//, '').replace(/^\/+/, '');
}

export class Devtmpfs {
  readonly #nodes = new Map<string, DevNode>();

  /**
   * devtmpfs_create_node(): mknod /dev/<name> (name may hold '/', as "bus/usb/001/002"). An existing node of
   * that name is left as it is, as vfs_mknod's EEXIST is ignored by device_add.
   */
  createNode(name: string, devt: number, mode = 0o600): void {
    if (this.#nodes.has(name)) return;
    this.#nodes.set(name, { devt, mode });
  }

  /** devtmpfs_delete_node(): unlinks /dev/<name> only when it is still the node of `devt` (dev_mynode). */
  deleteNode(name: string, devt: number): void {
    if (this.#nodes.get(name)?.devt === devt) this.#nodes.delete(name);
  }

  /** stat(2) of a node, "/dev/dax0.0" or "dax0.0": its dev_t, or undefined when absent. */
  lookup(path: string): number | undefined {
    return this.#nodes.get(nodeName(path))?.devt;
  }

  /** Permission bits of a node, or undefined when absent. */
  mode(path: string): number | undefined {
    return this.#nodes.get(nodeName(path))?.mode;
  }

  /** Names of the nodes under /dev, sorted. */
  list(): string[] {
    return [...this.#nodes.keys()].sort();
  }
}
