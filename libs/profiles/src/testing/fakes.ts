import { EventBus, EventPublisher, QueryBus } from '@nestjs/cqrs';
import type { HostCapacity, Quota } from '#quotas';
import { Profile, type ProfileState } from '../domain/profile.js';
import { ListProfileUsersQuery, ProfileUsage } from '../domain/profile-usage.js';
import { ProfileAlreadyExistsError, ProfileNotFoundError } from '../domain/profile.errors.js';
import type { ProfileRepository } from '../infrastructure/profile.repository.js';

/** A host of 4 CPUs and 8 GiB, for the `limits.*` checks. */
export const HOST: HostCapacity = { cpus: [0, 1, 2, 3], memoryBytes: 8n * 1024n ** 3n };

export const profileState = (name: string, changes: Partial<ProfileState> = {}): ProfileState => ({ name, description: '', config: {}, devices: {}, ...changes });

/**
 * ProfileRepository's contract in memory: names are unique, a `change` that throws leaves
 * nothing behind (the transaction rolls back), a saved profile's quota row is kept beside it.
 */
export class InMemoryProfiles {
  readonly rows = new Map<string, { state: ProfileState; quota?: Quota }>();

  constructor(...profiles: ProfileState[]) {
    for (const state of profiles) this.rows.set(state.name, { state });
  }

  get repository(): ProfileRepository {
    return this as unknown as ProfileRepository;
  }

  async insert(profile: Profile): Promise<void> {
    if (this.rows.has(profile.name)) throw new ProfileAlreadyExistsError(profile.name);
    this.rows.set(profile.name, { state: { ...profile.snapshot }, quota: profile.quota ?? {} });
  }

  async change(name: string, change: (profile: Profile) => Promise<'save' | 'delete'>): Promise<Profile> {
    const row = this.rows.get(name);
    if (!row) throw new ProfileNotFoundError(name);
    const profile = Profile.restore({ ...row.state });
    const outcome = await change(profile);
    if (outcome === 'delete') {
      this.rows.delete(name);
      return profile;
    }
    if (profile.name !== name && this.rows.has(profile.name)) throw new ProfileAlreadyExistsError(profile.name);
    this.rows.delete(name);
    this.rows.set(profile.name, { state: { ...profile.snapshot }, quota: profile.quota ?? row.quota });
    return profile;
  }
}

/** A real EventPublisher over an event bus that keeps what aggregates commit. */
export function recordingPublisher(): { publisher: EventPublisher; published: object[] } {
  const published: object[] = [];
  const bus = { publish: (event: object) => published.push(event), publishAll: (events: object[]) => published.push(...events) };
  return { publisher: new EventPublisher(bus as unknown as EventBus), published };
}

/** ProfileUsage answered by a query bus that knows `users` (profile name → API paths). */
export function usageOf(users: Record<string, string[]>): ProfileUsage {
  const queries = {
    execute: async (query: unknown) => {
      if (!(query instanceof ListProfileUsersQuery)) throw new Error(`unexpected query ${String(query)}`);
      return new Map(Object.entries(users));
    },
  };
  return new ProfileUsage(queries as unknown as QueryBus);
}
