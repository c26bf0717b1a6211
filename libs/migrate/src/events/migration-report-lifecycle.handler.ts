import { Inject } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { LOGGER, type Logger } from '#core';
import { InstanceDeletedEvent, InstanceRenamedEvent } from '#instances';
import { MigrationReports } from '../infrastructure/migration-reports.repository.js';

/** An import's report lives as long as its instance, under the instance's current name. */
@EventsHandler(InstanceRenamedEvent, InstanceDeletedEvent)
export class MigrationReportLifecycleHandler implements IEventHandler<InstanceRenamedEvent | InstanceDeletedEvent> {
  constructor(
    private readonly reports: MigrationReports,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async handle(event: InstanceRenamedEvent | InstanceDeletedEvent): Promise<void> {
    try {
      if (event instanceof InstanceRenamedEvent) await this.reports.rename(event.oldName, event.name);
      else await this.reports.delete(event.name);
    } catch (err) {
      this.log.error({ instance: event.name, event: event.constructor.name, err: (err as Error).message }, 'could not keep the VM import report in step with its instance');
    }
  }
}
