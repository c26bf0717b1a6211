import { Inject, Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { checkAdmission, HOST_CAPACITY, parseQuota, type HostCapacity, type Quota } from '#quotas';
import { GetServerConfigQuery, overcommitRatio } from '#server';
import type { Instance } from '../domain/instance.js';
import type { AdmissionCheck } from './instance.repository.js';

/** Applies the server's memory admission ratio to instance writes. */
@Injectable()
export class Admission {
  constructor(private readonly queries: QueryBus, @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity) {}

  async ratio(): Promise<number | undefined> {
    return overcommitRatio(await this.queries.execute(new GetServerConfigQuery()));
  }

  /** The check to run inside the create transaction, or none when admission is off. */
  async forInstance(instance: Instance): Promise<AdmissionCheck | undefined> {
    const ratio = await this.ratio();
    return ratio === undefined ? undefined : (others) => this.check(instance, others, ratio);
  }

  check(instance: Instance, others: Array<Record<string, string>>, ratio: number | undefined): void {
    checkAdmission(instance.name, parseQuota(instance.expanded.config, this.capacity), others.map((c) => this.quotaOf(c)), this.capacity, ratio);
  }

  /** An instance whose limits no longer fit this host (fewer CPUs after a move) still counts its memory. */
  quotaOf(config: Record<string, string>): Quota {
    try {
      return parseQuota(config, this.capacity);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      try {
        return config['limits.memory'] === undefined ? {} : parseQuota({ 'limits.memory': config['limits.memory'] }, this.capacity);
      } catch {
        return {};
      }
    }
  }
}
