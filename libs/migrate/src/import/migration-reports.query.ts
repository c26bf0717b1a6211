import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { NotFoundError } from '#core';
import type { MigrationReportRecord } from '../infrastructure/migration-report.entity.js';
import { MigrationReports } from '../infrastructure/migration-reports.repository.js';

/** A stored VM import report, as `GET /1.0/migrations/{instance}` answers it. */
export interface MigrationReportView {
  instance: string;
  source: string;
  source_kind: string;
  created_at: string;
  duration_ms: number;
  report: Record<string, unknown>;
}

export class GetMigrationReportQuery extends Query<MigrationReportView> {
  constructor(readonly instance: string) {
    super();
  }
}

export class ListMigrationReportsQuery extends Query<string[] | MigrationReportView[]> {
  constructor(readonly recursion: 0 | 1) {
    super();
  }
}

const view = (r: MigrationReportRecord): MigrationReportView => ({
  instance: r.instanceName,
  source: r.source,
  source_kind: r.sourceKind,
  created_at: new Date(r.createdAt).toISOString(),
  duration_ms: r.durationMs,
  report: r.report,
});

@QueryHandler(GetMigrationReportQuery)
export class GetMigrationReportHandler implements IQueryHandler<GetMigrationReportQuery> {
  constructor(private readonly reports: MigrationReports) {}

  async execute({ instance }: GetMigrationReportQuery): Promise<MigrationReportView> {
    const record = await this.reports.get(instance);
    if (!record) throw new NotFoundError(`No VM import report for instance "${instance}" (it was not imported, or does not exist)`);
    return view(record);
  }
}

@QueryHandler(ListMigrationReportsQuery)
export class ListMigrationReportsHandler implements IQueryHandler<ListMigrationReportsQuery> {
  constructor(private readonly reports: MigrationReports) {}

  async execute({ recursion }: ListMigrationReportsQuery): Promise<string[] | MigrationReportView[]> {
    const records = await this.reports.list();
    return recursion === 1 ? records.map(view) : records.map((r) => `/1.0/migrations/${encodeURIComponent(r.instanceName)}`);
  }
}
