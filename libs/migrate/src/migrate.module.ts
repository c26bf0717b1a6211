import { Module } from '@nestjs/common';
import { ImportVmHandler } from './import/import-vm.handler.js';
import { GetMigrationReportHandler, ListMigrationReportsHandler } from './import/migration-reports.query.js';

/** VM imports: the command, and the reports kept with the instances they made. */
@Module({
  providers: [ImportVmHandler, GetMigrationReportHandler, ListMigrationReportsHandler],
})
export class MigrateModule {}
