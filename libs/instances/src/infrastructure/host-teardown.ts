import { Injectable, Optional } from '@nestjs/common';
import { InstanceNics, InstanceProxies } from '#network';
import type { Instance } from '../domain/instance.js';
import { GuestApiPort } from './guest-api.port.js';
import { PluggedInits } from './plugged-inits.js';

/**
 * What outlives a container on the host, removed once it is gone (a stop, a failed start, a
 * container the reconciler finds dead): its proxies (which also end once init is gone), its guest
 * API socket and its nics' host ends (the aggregate gets the volatile keys back).
 */
@Injectable()
export class HostTeardown {
  constructor(
    private readonly inits: PluggedInits,
    private readonly proxies: InstanceProxies,
    private readonly nics: InstanceNics,
    @Optional() private readonly guestApi?: GuestApiPort,
  ) {}

  async release(instance: Instance): Promise<void> {
    this.inits.forget(instance.name);
    await this.proxies.stop(instance.name);
    await this.guestApi?.release(instance.name);
    instance.applyVolatile(await this.nics.unplug(instance.nicHolder()));
  }
}
