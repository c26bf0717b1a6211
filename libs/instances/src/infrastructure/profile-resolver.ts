import { Injectable } from '@nestjs/common';
import { ValidationError } from '#core';
import { ProfileLayers } from '#profiles';
import type { ResolvedProfiles } from '../domain/instance.js';

/** Reads the current profiles from the profiles context, to resolve an instance's profile list. */
@Injectable()
export class ProfileResolver {
  constructor(private readonly layers: ProfileLayers) {}

  async load(): Promise<(names: string[]) => ResolvedProfiles> {
    const byName = new Map((await this.layers.all()).map((p) => [p.name, p]));
    return (names) =>
      names.map((name, i) => {
        const p = byName.get(name);
        if (!p) throw new ValidationError(`profiles[${i}]`, `profile "${name}" does not exist`);
        return { name, config: p.config, devices: p.devices };
      });
  }
}
