import { ValidationError } from '#core';
import { checkBoundDevice } from './device-mounts.js';

export type Devices = Record<string, Record<string, string>>;

export interface ConfigLayer {
  config: Record<string, string>;
  devices: Devices;
}

/** Profiles apply in order, the instance's own keys and devices last (LXD's expanded config). */
export function expand(profiles: ConfigLayer[], local: ConfigLayer): ConfigLayer {
  const config: Record<string, string> = {};
  const devices: Devices = {};
  for (const layer of [...profiles, local]) {
    Object.assign(config, layer.config);
    for (const [name, device] of Object.entries(layer.devices)) devices[name] = { ...device };
  }
  return { config, devices };
}

/**
 * Refuses a root disk (a disk at `/`) whose `pool` names no pool `exists` knows, in LXD's words
 * (what `lxc launch -s <pool>` and `lxc config device set <i> root pool=<pool>` send).
 */
export function checkRootPool(devices: Devices, exists: (pool: string) => boolean): void {
  const root = Object.entries(devices).find(([, d]) => d.type === 'disk' && d.path === '/');
  const pool = root?.[1].pool;
  if (root && pool !== undefined && !exists(pool)) throw new ValidationError(`devices["${root[0]}"]["pool"]`, `Storage pool not found: "${pool}"`);
}

/**
 * Rules on the expanded devices that no single layer can check alone: at most one root disk,
 * host paths absolute, no two disks on one path, no two nics with one interface name, and the
 * keys of the devices bound into the container (disks with a source, unix devices).
 */
export function checkDevices(devices: Devices): void {
  const roots = Object.entries(devices).filter(([, d]) => d.type === 'disk' && d.path === '/');
  if (roots.length > 1) throw new ValidationError('devices', `more than one root disk (${roots.map(([n]) => n).join(', ')})`);
  const paths = new Map<string, string>();
  const nics = new Map<string, string>();
  for (const [name, d] of Object.entries(devices)) {
    if (d.type === 'disk') {
      if (d.path === undefined) throw new ValidationError(`devices["${name}"]["path"]`, 'a disk needs a path inside the instance');
      if (!d.path.startsWith('/')) throw new ValidationError(`devices["${name}"]["path"]`, 'must be an absolute path inside the instance');
      if (d.path !== '/' && d.source === undefined) throw new ValidationError(`devices["${name}"]["source"]`, 'a disk other than the root needs a source');
      if (d.source !== undefined && d.pool === undefined && !d.source.startsWith('/')) {
        throw new ValidationError(`devices["${name}"]["source"]`, `must be an absolute host path, not "${d.source}"`);
      }
      if (d.source?.split('/').includes('..')) throw new ValidationError(`devices["${name}"]["source"]`, 'must not contain ".."');
      const other = paths.get(d.path);
      if (other) throw new ValidationError(`devices["${name}"]["path"]`, `"${d.path}" is already used by device "${other}"`);
      paths.set(d.path, name);
    }
    checkBoundDevice(name, d);
    if (d.type === 'nic') {
      const ifname = d.name ?? name;
      const other = nics.get(ifname);
      if (other) throw new ValidationError(`devices["${name}"]["name"]`, `interface "${ifname}" is already used by device "${other}"`);
      nics.set(ifname, name);
    }
  }
}
