import { DomainError } from '#core';
import { NativeCallError, type DeviceMount, type Runtime } from '#runtime';
import { deviceMounts, sameMount } from '../domain/device-mounts.js';
import type { Devices } from '../domain/expanded.js';

/** A device could not be bound into (or detached from) the running instance; LXD answers 400. */
export class DeviceChangeError extends DomainError {
  readonly code = 'INSTANCE.DEVICE_FAILED';

  constructor(instance: string, device: string, cause: string) {
    super(`Failed to change device "${device}" of instance "${instance}": ${cause}`, { instance, device });
  }
}

/**
 * Brings the devices bound into a running container from `before` to `after` (detaching the
 * removed and changed ones, then binding the new and changed ones, through its monitor).
 * A failure undoes the steps already taken and throws; on success it returns the undo.
 */
export async function syncDeviceMounts(runtime: Runtime, name: string, before: Devices, after: Devices): Promise<() => Promise<void>> {
  const old = new Map(deviceMounts(before).map((m) => [m.name, m]));
  const next = new Map(deviceMounts(after).map((m) => [m.name, m]));
  const changed = (m: DeviceMount, other: Map<string, DeviceMount>) => !other.has(m.name) || !sameMount(m, other.get(m.name)!);
  const done: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const step of done.reverse()) await step().catch(() => undefined);
  };
  const step = async (device: string, action: () => Promise<void>, reverse: () => Promise<void>) => {
    try {
      await action();
    } catch (err) {
      await undo();
      throw err instanceof NativeCallError ? new DeviceChangeError(name, device, err.message) : err;
    }
    done.push(reverse);
  };
  for (const m of [...old.values()].filter((m) => changed(m, next))) {
    await step(m.name, () => runtime.removeDevice(name, m.name), () => runtime.addDevice(name, m));
  }
  for (const m of [...next.values()].filter((m) => changed(m, old))) {
    await step(m.name, () => runtime.addDevice(name, m), () => runtime.removeDevice(name, m.name));
  }
  return undo;
}
