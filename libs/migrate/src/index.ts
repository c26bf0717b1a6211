/**
 * The migrate context: VM sources read into a root filesystem (sources/), guest inspection and
 * fix-ups with their report (guest/), and the import: a process of its own that makes an instance
 * of it through the instances context's commands, and keeps its report under the instance's name.
 */
export { MigrateModule } from './migrate.module.js';
export { ImportVmCommand } from './import/import-vm.command.js';
export { isImportSource, parseImportSource } from './import/import-source.js';
export { GetMigrationReportQuery, ListMigrationReportsQuery } from './import/migration-reports.query.js';
