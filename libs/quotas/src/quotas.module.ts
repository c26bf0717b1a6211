import { Module } from '@nestjs/common';
import { HOST_CAPACITY } from './tokens.js';
import { readHostCapacity } from './domain/host.js';
import { CgroupLimits } from './infrastructure/cgroup-limits.js';
import { HostPids } from './infrastructure/host-pids.js';
import { QuotaRecord } from './infrastructure/quota.entity.js';
import { QuotaLedger } from './infrastructure/quota.repository.js';

@Module({
  providers: [{ provide: HOST_CAPACITY, useFactory: readHostCapacity }, CgroupLimits, QuotaLedger, HostPids],
  exports: [HOST_CAPACITY, CgroupLimits, QuotaLedger, HostPids],
})
export class QuotasModule {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [QuotaRecord];
}
