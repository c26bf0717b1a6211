import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DATABASE, InUseError, isUniqueViolation, type Database } from '#core';
import { QuotaLedger } from '#quotas';
import { Profile } from '../domain/profile.js';
import { ProfileAlreadyExistsError, ProfileNotFoundError } from '../domain/profile.errors.js';
import { ProfileRecord } from './profile.entity.js';

const toDomain = (r: ProfileRecord) => Profile.restore({ name: r.name, description: r.description, config: r.config, devices: r.devices });

/** Profiles in Postgres. Writes that depend on what was read happen under a row lock. */
@Injectable()
export class ProfileRepository {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly quotas: QuotaLedger,
  ) {}

  private get manager(): EntityManager {
    return this.db.dataSource.manager;
  }

  async list(): Promise<Profile[]> {
    const rows = await this.manager.find(ProfileRecord, { order: { name: 'ASC' } });
    return rows.map(toDomain);
  }

  async names(): Promise<string[]> {
    const rows = await this.manager.find(ProfileRecord, { select: { name: true }, order: { name: 'ASC' } });
    return rows.map((r) => r.name);
  }

  async get(name: string): Promise<Profile> {
    const row = await this.manager.findOneBy(ProfileRecord, { name });
    if (!row) throw new ProfileNotFoundError(name);
    return toDomain(row);
  }

  /** Inserts the profile and its quota row in one transaction. */
  async insert(profile: Profile): Promise<void> {
    const { name, description, config, devices } = profile.snapshot;
    try {
      await this.manager.transaction(async (tx) => {
        const { identifiers } = await tx.insert(ProfileRecord, { name, description, config, devices });
        await this.quotas.recordProfile(tx, String(identifiers[0].id), profile.quota ?? {}, devices);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ProfileAlreadyExistsError(name);
      throw err;
    }
  }

  /**
   * Loads the profile locked FOR UPDATE, lets `change` decide, and writes the result in the same
   * transaction: concurrent PUT/PATCH/rename/delete of one profile are serialized.
   */
  async change(name: string, change: (profile: Profile) => Promise<'save' | 'delete'>): Promise<Profile> {
    return this.manager.transaction(async (tx) => {
      const row = await tx.findOne(ProfileRecord, { where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw new ProfileNotFoundError(name);
      const profile = toDomain(row);
      const outcome = await change(profile);
      if (outcome === 'delete') {
        try {
          await tx.delete(ProfileRecord, { id: row.id });
        } catch (err) {
          // An instance attached the profile after its users were read: the foreign key refuses.
          if ((err as { driverError?: { code?: string } }).driverError?.code === '23503') throw new InUseError(`Profile "${name}" was attached to an instance while being deleted`);
          throw err;
        }
        return profile;
      }
      const { name: newName, description, config, devices } = profile.snapshot;
      try {
        await tx.update(ProfileRecord, { id: row.id }, { name: newName, description, config, devices, updatedAt: () => 'now()' });
        if (profile.quota) await this.quotas.recordProfile(tx, row.id, profile.quota, devices);
      } catch (err) {
        if (isUniqueViolation(err)) throw new ProfileAlreadyExistsError(newName);
        throw err;
      }
      return profile;
    });
  }
}
