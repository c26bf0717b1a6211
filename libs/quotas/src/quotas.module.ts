import { Module } from '@nestjs/common';
import { HOST_CAPACITY } from './tokens.js';
import { readHostCapacity } from './domain/host.js';
import { CgroupLimits } from './infrastructure/cgroup-limits.js';

@Module({
  providers: [{ provide: HOST_CAPACITY, useFactory: readHostCapacity }, CgroupLimits],
  exports: [HOST_CAPACITY, CgroupLimits],
})
export class QuotasModule {}
