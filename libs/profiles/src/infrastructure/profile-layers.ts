import { Injectable } from '@nestjs/common';
import { ProfileRepository } from './profile.repository.js';

/** A profile as another context expands it: its name, config and devices. */
export interface ProfileLayer {
  readonly name: string;
  readonly config: Record<string, string>;
  readonly devices: Record<string, Record<string, string>>;
}

/**
 * The profiles as configuration layers, for the contexts that expand them (instances): read
 * straight from profiles' own table, without their used_by (which would ask instances back),
 * and usable before the command and query buses are wired (at daemon start).
 */
@Injectable()
export class ProfileLayers {
  constructor(private readonly profiles: ProfileRepository) {}

  async all(): Promise<ProfileLayer[]> {
    return (await this.profiles.list()).map((p) => {
      const { name, config, devices } = p.snapshot;
      return { name, config, devices };
    });
  }
}
