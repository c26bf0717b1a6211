import { Module } from '@nestjs/common';
import { UpdateServerConfigHandler } from './commands/update-server-config/update-server-config.handler.js';
import { ServerLifecycleHandler } from './events/server-lifecycle.handler.js';
import { ServerConfigRecord } from './infrastructure/server-config.entity.js';
import { ServerConfigRepository } from './infrastructure/server-config.repository.js';
import { GetServerConfigHandler } from './queries/get-server-config/get-server-config.handler.js';

@Module({ providers: [ServerConfigRepository, GetServerConfigHandler, UpdateServerConfigHandler, ServerLifecycleHandler] })
export class ServerModule {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [ServerConfigRecord];
}
