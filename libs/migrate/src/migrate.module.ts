import { Module } from '@nestjs/common';
import { MigrationReportLifecycleHandler } from './events/migration-report-lifecycle.handler.js';
import { ImportVmHandler } from './import/import-vm.handler.js';
import { GetMigrationReportHandler, ListMigrationReportsHandler } from './import/migration-reports.query.js';
import { MigrationReports } from './infrastructure/migration-reports.repository.js';

/** VM imports: the command that runs them, and the reports kept under the names of the instances they made. */
@Module({
  providers: [
    ImportVmHandler,
    GetMigrationReportHandler,
    ListMigrationReportsHandler,
    MigrationReports,
    MigrationReportLifecycleHandler,
  ],
})
export class MigrateModule {}
