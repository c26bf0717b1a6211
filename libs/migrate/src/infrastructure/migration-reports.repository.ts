import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DATABASE, type Database } from '#core';
import { MigrationReportRecord } from './migration-report.entity.js';

/** TypeORM's deep-partial typing cannot express free-form jsonb; the column takes any object. */
const jsonb = (value: Record<string, unknown>) => value as never;

export type NewMigrationReport = Pick<MigrationReportRecord, 'instanceName' | 'source' | 'sourceKind' | 'report' | 'durationMs'>;

/**
 * The stored VM import reports, one per instance name. A report left under a name by an instance
 * that is gone (its deleted event missed while the daemon was down) is stale: a new report for
 * that name, or a rename to it, replaces it.
 */
@Injectable()
export class MigrationReports {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  private get manager(): EntityManager {
    return this.db.dataSource.manager;
  }

  async store(report: NewMigrationReport): Promise<void> {
    await this.manager.upsert(MigrationReportRecord, { ...report, report: jsonb(report.report), createdAt: new Date() }, ['instanceName']);
  }

  get(instanceName: string): Promise<MigrationReportRecord | null> {
    return this.manager.findOneBy(MigrationReportRecord, { instanceName });
  }

  list(): Promise<MigrationReportRecord[]> {
    return this.manager.find(MigrationReportRecord, { order: { instanceName: 'ASC' } });
  }

  async rename(from: string, to: string): Promise<void> {
    await this.manager.transaction(async (tx) => {
      await tx.delete(MigrationReportRecord, { instanceName: to });
      await tx.update(MigrationReportRecord, { instanceName: from }, { instanceName: to });
    });
  }

  async delete(instanceName: string): Promise<void> {
    await this.manager.delete(MigrationReportRecord, { instanceName });
  }
}
