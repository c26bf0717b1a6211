import { InitialSchema1764381600000 } from './1764381600000-initial-schema.js';
import { Quotas1764385200000 } from './1764385200000-quotas.js';
import { Instances1764388800000 } from './1764388800000-instances.js';
import { ServerConfig1764392400000 } from './1764392400000-server-config.js';
import { Images1764396000000 } from './1764396000000-images.js';
import { Networks1764399600000 } from './1764399600000-networks.js';
import { MigrationReports1764403200000 } from './1764403200000-migration-reports.js';
import { DiskIoQuotas1764410400000 } from './1764410400000-disk-io-quotas.js';
import { NicQuotas1764414000000 } from './1764414000000-nic-quotas.js';
import { MigrationReportsByName1764417600000 } from './1764417600000-migration-reports-by-name.js';
import { InstanceProfilesByName1765100000000 } from './1765100000000-instance-profiles-by-name.js';
import { StatusAsLxd1765203600000 } from './1765203600000-status-as-lxd.js';
import { Warnings1765300000000 } from './1765300000000-warnings.js';
import { StoragePools1765400000000 } from './1765400000000-storage-pools.js';

/** Every migration, in order. A merged migration is never edited: add a new one. */
export const migrations = [
  InitialSchema1764381600000,
  Quotas1764385200000,
  Instances1764388800000,
  ServerConfig1764392400000,
  Images1764396000000,
  Networks1764399600000,
  MigrationReports1764403200000,
  DiskIoQuotas1764410400000,
  NicQuotas1764414000000,
  MigrationReportsByName1764417600000,
  InstanceProfilesByName1765100000000,
  StatusAsLxd1765203600000,
  Warnings1765300000000,
  StoragePools1765400000000,
];
