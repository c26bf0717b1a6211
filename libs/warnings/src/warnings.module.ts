import { Module } from '@nestjs/common';
import { ChangeWarningStatusHandler } from './commands/change-warning-status/change-warning-status.handler.js';
import { CheckHostHandler } from './commands/check-host/check-host.handler.js';
import { DeleteWarningHandler } from './commands/delete-warning/delete-warning.handler.js';
import { WarningLifecycleHandler } from './events/warning-lifecycle.handler.js';
import { HostCheckSchedule } from './infrastructure/host-check-schedule.js';
import { HostProbe } from './infrastructure/host-probe.js';
import { WarningRecord } from './infrastructure/warning.entity.js';
import { WarningRepository } from './infrastructure/warning.repository.js';
import { GetWarningHandler } from './queries/get-warning/get-warning.handler.js';
import { ListWarningsHandler } from './queries/list-warnings/list-warnings.handler.js';

@Module({
  providers: [
    WarningRepository,
    HostProbe,
    CheckHostHandler,
    ChangeWarningStatusHandler,
    DeleteWarningHandler,
    ListWarningsHandler,
    GetWarningHandler,
    WarningLifecycleHandler,
    HostCheckSchedule,
  ],
})
export class WarningsModule {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [WarningRecord];
}
