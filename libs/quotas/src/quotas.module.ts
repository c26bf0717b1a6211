import { Module } from '@nestjs/common';
import { HOST_CAPACITY } from './tokens.js';
import { readHostCapacity } from './domain/host.js';

@Module({
  providers: [{ provide: HOST_CAPACITY, useFactory: readHostCapacity }],
  exports: [HOST_CAPACITY],
})
export class QuotasModule {}
