import type { EntityManager } from 'typeorm';
import { parseDiskIo } from '../domain/disk-io.js';
import { QuotaRecord } from './quota.entity.js';
import { toColumns } from './quota.mapper.js';

type Owner = { readonly key: 'instanceId' | 'profileId'; readonly id: string };
type Devices = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * The disk I/O columns of an owner's quota row, from the root disk among its own devices (as the
 * caller's transaction has just stored them), so that they always change together. A limit that
 * does not parse fails that transaction with a ValidationError naming the device and key.
 */
export const DiskIoQuotaRows = {
  saveForInstance(tx: EntityManager, instanceId: string, devices: Devices): Promise<void> {
    return save(tx, { key: 'instanceId', id: instanceId }, devices);
  },

  saveForProfile(tx: EntityManager, profileId: string, devices: Devices): Promise<void> {
    return save(tx, { key: 'profileId', id: profileId }, devices);
  },
};

async function save(tx: EntityManager, owner: Owner, devices: Devices): Promise<void> {
  const io = parseDiskIo(devices);
  const { diskReadBps, diskReadIops, diskWriteBps, diskWriteIops } = toColumns({ diskRead: io.read, diskWrite: io.write });
  await tx.update(QuotaRecord, { [owner.key]: owner.id }, { diskReadBps, diskReadIops, diskWriteBps, diskWriteIops });
}
