import { Module } from '@nestjs/common';
import { GetMigrationReportHandler, ListMigrationReportsHandler } from './import/migration-reports.query.js';

/** VM imports: the command, and the reports kept with the instances they made. */
@Module({
  providers: [GetMigrationReportHandler, ListMigrationReportsHandler],
})
export class MigrateModule {}
