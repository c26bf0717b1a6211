export { WarningsModule } from './warnings.module.js';
export { CheckHostCommand } from './commands/check-host/check-host.command.js';
export { ChangeWarningStatusCommand } from './commands/change-warning-status/change-warning-status.command.js';
export { DeleteWarningCommand } from './commands/delete-warning/delete-warning.command.js';
export { ListWarningsQuery } from './queries/list-warnings/list-warnings.query.js';
export { GetWarningQuery } from './queries/get-warning/get-warning.query.js';
export { statusFilter, type WarningView, type WarningStatus } from './domain/warning.js';
