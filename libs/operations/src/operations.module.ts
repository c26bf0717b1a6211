import { Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { BERTH_CONFIG, DATABASE, LOGGER, type BerthConfig, type Database, type Logger } from '#core';
import { CancelOperationHandler } from './commands/cancel-operation/cancel-operation.handler.js';
import { EventHub } from './events/event-hub.js';
import { OperationRecord } from './infrastructure/operation.entity.js';
import { OperationRunner } from './operation-runner.js';
import { WebsocketOperations } from './websocket-operations.js';
import { GetOperationHandler } from './queries/get-operation/get-operation.handler.js';
import { ListOperationsHandler } from './queries/list-operations/list-operations.handler.js';
import { WaitOperationHandler } from './queries/wait-operation/wait-operation.handler.js';

@Module({})
export class OperationsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [OperationRecord];

  constructor(private readonly runner: OperationRunner) {}

  /** `hub` is created before the logger so that log lines become `logging` events. */
  static forRoot(hub: EventHub): DynamicModule {
    return {
      module: OperationsModule,
      global: true,
      providers: [
        { provide: EventHub, useValue: hub },
        {
          provide: OperationRunner,
          inject: [DATABASE, EventHub, BERTH_CONFIG, LOGGER],
          useFactory: (db: Database, events: EventHub, config: BerthConfig, log: Logger) =>
            new OperationRunner(db.dataSource, events, { owner: `${hostname()}:${config.BERTH_DIR}`, bootId: randomUUID() }, log.child({ component: 'operations' })),
        },
        { provide: WebsocketOperations, inject: [OperationRunner], useFactory: (runner: OperationRunner) => new WebsocketOperations(runner) },
        ListOperationsHandler,
        GetOperationHandler,
        WaitOperationHandler,
        CancelOperationHandler,
      ],
      exports: [EventHub, OperationRunner, WebsocketOperations],
    };
  }

  async onApplicationBootstrap() {
    await this.runner.failInterrupted();
    this.runner.startPruning();
  }

  async onApplicationShutdown() {
    await this.runner.shutdown();
  }
}
