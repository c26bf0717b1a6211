import { Inject, Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { checkAdmission, checkPidsAdmission, HOST_CAPACITY, HostPids, parseQuota, type HostCapacity, type Quota } from '#quotas';
import { GetServerConfigQuery, overcommitRatio, processesShare } from '#server';
import type { Instance } from '../domain/instance.js';
import type { AdmissionCheck } from './instance.repository.js';
import { InstanceRepository } from './instance.repository.js';

/**
 * Applies the server's admission rules: the memory ratio to instance writes, the pids share to
 * starts.
 */
@Injectable()
export class Admission {
  /** The start admissions of this daemon, one after the other. */
  private starts: Promise<void> = Promise.resolve();

  constructor(
    private readonly queries: QueryBus,
    private readonly instances: InstanceRepository,
    private readonly pids: HostPids,
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
  ) {}

  async ratio(): Promise<number> {
    return overcommitRatio(await this.config());
  }

  /** The check to run inside the create transaction. */
  async forInstance(instance: Instance): Promise<AdmissionCheck> {
    const ratio = await this.ratio();
    return (others) => this.check(instance, others, ratio);
  }

  check(instance: Instance, others: Array<Record<string, string>>, ratio: number): void {
    checkAdmission(instance.name, parseQuota(instance.expanded.config, this.capacity), others.map((c) => this.quotaOf(c)), this.capacity, ratio);
  }

  /**
   * Admits the start of `instance` against the pids allowance (`limits.processes.share` of the
   * kernel's pid_max), then runs `record` (the aggregate becomes Starting and is saved), one start
   * at a time in this daemon: of two starts that would together pass the allowance, the second
   * sees the first and is refused. A refused start records nothing. The pid table is the host's
   * and a daemon runs only its own instances, so the order is kept in memory: no database lock or
   * connection is held while the instances are read (32 starts at once must not wait on each
   * other's connections).
   */
  async forStart(instance: Instance, record: () => Promise<void>): Promise<void> {
    const turn = this.starts.then(() => this.admitStart(instance, record));
    this.starts = turn.catch(() => undefined);
    await turn;
  }

  private async admitStart(instance: Instance, record: () => Promise<void>): Promise<void> {
    instance.assertCan('start');
    const budget = { pidMax: await this.pids.pidMax(), share: processesShare(await this.config()) };
    const running = (await this.instances.list()).filter((i) => i.isRunning && i.name !== instance.name);
    checkPidsAdmission(instance.name, this.processesOf(instance.expanded.config), running.map((i) => this.processesOf(i.expanded.config)), budget);
    await record();
  }

  /** An instance whose limits no longer fit this host (fewer CPUs after a move) still counts its memory. */
  quotaOf(config: Record<string, string>): Quota {
    try {
      return parseQuota(config, this.capacity);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return { memoryBytes: this.quotaOfKey(config, 'limits.memory').memoryBytes, processes: this.processesOf(config) };
    }
  }

  private processesOf(config: Record<string, string>): number | undefined {
    return this.quotaOfKey(config, 'limits.processes').processes;
  }

  /** The quota of one `limits.*` key alone; none when it is unset or no longer valid here. */
  private quotaOfKey(config: Record<string, string>, key: string): Quota {
    try {
      return config[key] === undefined ? {} : parseQuota({ [key]: config[key] }, this.capacity);
    } catch {
      return {};
    }
  }

  private async config(): Promise<Record<string, string>> {
    return this.queries.execute(new GetServerConfigQuery());
  }
}
