import { Injectable } from '@nestjs/common';
import { DefaultPool } from '#storage';
import { InstanceRepository } from './instance.repository.js';

/** Where an instance's root volume is on the host (metadata.yaml, templates/ and rootfs/); 404 for an unknown instance. */
@Injectable()
export class InstanceVolumes {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly pool: DefaultPool,
  ) {}

  async path(name: string): Promise<string> {
    await this.instances.get(name);
    return (await this.pool.get()).instanceVolumePath(name);
  }
}
