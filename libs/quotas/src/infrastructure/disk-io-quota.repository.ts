import type { EntityManager } from 'typeorm';
import { parseDiskIo } from '../domain/disk-io.js';
import { QuotaRecord } from './quota.entity.js';
import { toColumns } from './quota.mapper.js';

type Owner = { readonly key: 'instanceId' | 'profileId'; readonly table: 'instances' | 'profiles'; readonly id: string };

/**
 * The disk I/O columns of an owner's quota row, from the root disk among its own devices (as the
 * caller's transaction has just stored them), so that they always change together. A limit that
 * does not parse fails that transaction with a ValidationError naming the device and key.
 */
export const DiskIoQuotaRows = {
  saveForInstance(tx: EntityManager, instanceId: string): Promise<void> {
    return save(tx, { key: 'instanceId', table: 'instances', id: instanceId });
  },

  saveForProfile(tx: EntityManager, profileId: string): Promise<void> {
    return save(tx, { key: 'profileId', table: 'profiles', id: profileId });
  },
};

async function save(tx: EntityManager, owner: Owner): Promise<void> {
  const [found]: Array<{ devices: Record<string, Record<string, string>> }> = await tx.query(`SELECT devices FROM ${owner.table} WHERE id = $1`, [owner.id]);
  const io = parseDiskIo(found?.devices ?? {});
  const { diskReadBps, diskReadIops, diskWriteBps, diskWriteIops } = toColumns({ diskRead: io.read, diskWrite: io.write });
  await tx.update(QuotaRecord, { [owner.key]: owner.id }, { diskReadBps, diskReadIops, diskWriteBps, diskWriteIops });
}
