import type { EntityManager } from 'typeorm';
import type { Quota } from '../domain/quota.js';
import { QuotaRecord } from './quota.entity.js';
import { toColumns, toQuota } from './quota.mapper.js';
import { NicQuotaRows } from './nic-quota.repository.js';
import { DiskIoQuotaRows } from './disk-io-quota.repository.js';

/**
 * Typed quota rows. Writes take the caller's transaction, so that a quota row always changes
 * together with the config keys it was parsed from (and the nic rows with the devices just stored).
 */
export const QuotaRows = {
  async saveForProfile(tx: EntityManager, profileId: string, quota: Quota): Promise<void> {
    await tx.upsert(QuotaRecord, { profileId, ...toColumns(quota), updatedAt: () => 'now()' }, { conflictPaths: ['profileId'] });
    await NicQuotaRows.saveForProfile(tx, profileId);
    await DiskIoQuotaRows.saveForProfile(tx, profileId);
  },

  async saveForInstance(tx: EntityManager, instanceId: string, quota: Quota): Promise<void> {
    await tx.upsert(QuotaRecord, { instanceId, ...toColumns(quota), updatedAt: () => 'now()' }, { conflictPaths: ['instanceId'] });
    await NicQuotaRows.saveForInstance(tx, instanceId);
    await DiskIoQuotaRows.saveForInstance(tx, instanceId);
  },

  async forProfile(tx: EntityManager, profileId: string): Promise<Quota | undefined> {
    const row = await tx.findOneBy(QuotaRecord, { profileId });
    return row ? toQuota(row) : undefined;
  },
};
