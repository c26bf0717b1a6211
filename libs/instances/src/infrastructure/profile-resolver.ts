import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { ListProfilesQuery, type ProfileView } from '#profiles';
import type { ResolvedProfiles } from '../domain/instance.js';

/** Reads the current profiles through the profiles context, to resolve an instance's profile list. */
@Injectable()
export class ProfileResolver {
  constructor(private readonly queries: QueryBus) {}

  async load(): Promise<(names: string[]) => ResolvedProfiles> {
    const profiles = (await this.queries.execute(new ListProfilesQuery(1))) as ProfileView[];
    const byName = new Map(profiles.map((p) => [p.name, p]));
    return (names) =>
      names.map((name, i) => {
        const p = byName.get(name);
        if (!p) throw new ValidationError(`profiles[${i}]`, `profile "${name}" does not exist`);
        return { name, config: p.config, devices: p.devices };
      });
  }
}
