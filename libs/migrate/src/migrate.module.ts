import { Module } from '@nestjs/common';
import { StorageModule } from '#storage';
import { MigrationReportLifecycleHandler } from './events/migration-report-lifecycle.handler.js';
import { ImportVmHandler } from './import/import-vm.handler.js';
import { IMPORT_TOOLS } from './import/import-tools.js';
import { GetMigrationReportHandler, ListMigrationReportsHandler } from './import/migration-reports.query.js';
import { HostImportTools } from './infrastructure/host-import-tools.js';
import { MigrationReportRecord } from './infrastructure/migration-report.entity.js';
import { MigrationReports } from './infrastructure/migration-reports.repository.js';

/** VM imports: the command that runs them, and the reports kept under the names of the instances they made. */
@Module({
  imports: [StorageModule],
  providers: [
    ImportVmHandler,
    GetMigrationReportHandler,
    ListMigrationReportsHandler,
    MigrationReports,
    MigrationReportLifecycleHandler,
    { provide: IMPORT_TOOLS, useClass: HostImportTools },
  ],
})
export class MigrateModule {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [MigrationReportRecord];
}
