import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DATABASE, NotFoundError, type Database } from '#core';

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

interface Row {
  instance: string;
  source: string;
  source_kind: string;
  created_at: Date;
  duration_ms: number;
  report: Record<string, unknown>;
}

const SELECT = `SELECT i.name AS instance, r.source, r.source_kind, r.created_at, r.duration_ms, r.report
                  FROM migration_reports r JOIN instances i ON i.id = r.instance_id`;

const view = (r: Row): MigrationReportView => ({ ...r, created_at: new Date(r.created_at).toISOString() });

@QueryHandler(GetMigrationReportQuery)
export class GetMigrationReportHandler implements IQueryHandler<GetMigrationReportQuery> {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async execute({ instance }: GetMigrationReportQuery): Promise<MigrationReportView> {
    const [row]: Row[] = await this.db.dataSource.manager.query(`${SELECT} WHERE i.name = $1`, [instance]);
    if (!row) throw new NotFoundError(`No VM import report for instance "${instance}" (it was not imported, or does not exist)`);
    return view(row);
  }
}

@QueryHandler(ListMigrationReportsQuery)
export class ListMigrationReportsHandler implements IQueryHandler<ListMigrationReportsQuery> {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async execute({ recursion }: ListMigrationReportsQuery): Promise<string[] | MigrationReportView[]> {
    const rows: Row[] = await this.db.dataSource.manager.query(`${SELECT} ORDER BY i.name`);
    return recursion === 1 ? rows.map(view) : rows.map((r) => `/1.0/migrations/${encodeURIComponent(r.instance)}`);
  }
}
