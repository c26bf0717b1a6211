import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Quota } from '../domain/quota.js';
import { QuotaRecord } from './quota.entity.js';
import { toColumns, toQuota } from './quota.mapper.js';
import { NicQuotaRows } from './nic-quota.repository.js';
import { DiskIoQuotaRows } from './disk-io-quota.repository.js';

type Devices = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * Typed quota rows. Writes take the caller's transaction, so that a quota row always changes
 * together with the config keys it was parsed from (and the nic rows with the devices just stored).
 */
export const QuotaRows = {
  async saveForProfile(tx: EntityManager, profileId: string, quota: Quota, devices: Devices): Promise<void> {
    await tx.upsert(QuotaRecord, { profileId, ...toColumns(quota), updatedAt: () => 'now()' }, { conflictPaths: ['profileId'] });
    await NicQuotaRows.saveForProfile(tx, profileId, devices);
    await DiskIoQuotaRows.saveForProfile(tx, profileId, devices);
  },

  async saveForInstance(tx: EntityManager, instanceId: string, quota: Quota, devices: Devices): Promise<void> {
    await tx.upsert(QuotaRecord, { instanceId, ...toColumns(quota), updatedAt: () => 'now()' }, { conflictPaths: ['instanceId'] });
    await NicQuotaRows.saveForInstance(tx, instanceId, devices);
    await DiskIoQuotaRows.saveForInstance(tx, instanceId, devices);
  },

  async forProfile(tx: EntityManager, profileId: string): Promise<Quota | undefined> {
    const row = await tx.findOneBy(QuotaRecord, { profileId });
    return row ? toQuota(row) : undefined;
  },
};

/**
 * The quotas context's port for the contexts that own `limits.*` keys (instances, profiles): the
 * typed rows of an owner's own config and devices, written in the owner's transaction (`tx`) so
 * that they always change together. The owner passes what it has just stored; quotas reads no
 * table but its own.
 */
@Injectable()
export class QuotaLedger {
  recordInstance(tx: EntityManager, instanceId: string, quota: Quota, devices: Devices): Promise<void> {
    return QuotaRows.saveForInstance(tx, instanceId, quota, devices);
  }

  recordProfile(tx: EntityManager, profileId: string, quota: Quota, devices: Devices): Promise<void> {
    return QuotaRows.saveForProfile(tx, profileId, quota, devices);
  }
}
