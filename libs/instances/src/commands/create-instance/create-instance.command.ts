import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

/**
 * Fills a new instance's empty root volume in place of an image (another context's source, such
 * as a VM import). Runs inside the create operation, holding the instance's lock; if it throws,
 * the volume and the record are removed. It may ask for device settings (a DHCP reservation);
 * the instance takes them only if they pass the same checks as any device change.
 */
export interface PopulateVolume {
  (context: PopulateContext): Promise<PopulateResult>;
}

export interface PopulateContext {
  /** The directory to create the root filesystem at (does not exist yet). */
  readonly rootfs: string;
  /** The instance as recorded: its expanded devices say which network eth0 is on. */
  readonly instance: { readonly name: string; readonly expandedDevices: Readonly<Record<string, Readonly<Record<string, string>>>> };
  readonly signal: AbortSignal;
  progress(metadata: Record<string, unknown>): Promise<void>;
}

export interface PopulateResult {
  /** Device keys merged into the instance's own devices (e.g. `eth0: {"ipv4.address": ...}`). */
  readonly devices?: Record<string, Record<string, string>>;
  /** Called once the devices were taken (`refused` says why they were not); then the record is final. */
  finish(outcome: { refused?: string }): Promise<Record<string, unknown>>;
}

/** LXD's InstancesPost body, as received; `populate` replaces the image for in-process sources. */
export class CreateInstanceCommand extends Command<OperationView> {
  constructor(
    readonly body: Record<string, unknown>,
    readonly populate?: PopulateVolume,
  ) {
    super();
  }
}
