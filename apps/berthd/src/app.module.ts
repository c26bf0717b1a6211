import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CoreModule, type BerthConfig, type Database, type Logger } from '#core';
import { OperationsModule, type EventHub } from '#operations';
import { GuestApiModule } from '#guest-api';
import { ImagesModule } from '#images';
import { InstancesModule } from '#instances';
import { MigrateModule } from '#migrate';
import { NetworkModule } from '#network';
import { ProfilesModule } from '#profiles';
import { ServerModule } from '#server';
import { WarningsModule } from '#warnings';
import { ImageAliasesController, ImagesController } from './api/images.controller.js';
import { InstancesController } from './api/instances.controller.js';
import { InstanceFilesController } from './api/instance-files.controller.js';
import { InstanceMetadataController } from './api/instance-metadata.controller.js';
import { InstanceBackupsController } from './api/instance-backups.controller.js';
import { StoragePoolsController } from './api/storage-pools.controller.js';
import { MigrationsController } from './api/migrations.controller.js';
import { NetworksController } from './api/networks.controller.js';
import { OperationsController } from './api/operations.controller.js';
import { ProfilesController } from './api/profiles.controller.js';
import { ResourcesController } from './api/resources.controller.js';
import { ServerController } from './api/server.controller.js';
import { TestingController } from './api/testing.controller.js';
import { WarningsController } from './api/warnings.controller.js';
import { UnhandledExceptionsLog } from './events/unhandled-exceptions.js';
import { ServerInfo } from './server-info.js';

export interface Booted {
  config: BerthConfig;
  logger: Logger;
  database: Database;
  hub: EventHub;
  serverInfo: ServerInfo;
}

/** Composes the bounded contexts; the daemon owns only the HTTP and WebSocket edges. */
@Module({})
export class AppModule {
  static register(booted: Booted): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        CoreModule.forRoot(booted.config, booted.logger, booted.database),
        OperationsModule.forRoot(booted.hub),
        ProfilesModule,
        InstancesModule,
        ServerModule,
        ImagesModule,
        NetworkModule,
        MigrateModule,
        WarningsModule,
        GuestApiModule,
      ],
      controllers: [ServerController, ProfilesController, InstancesController, InstanceFilesController, InstanceMetadataController, InstanceBackupsController, StoragePoolsController, ImageAliasesController, ImagesController, OperationsController, NetworksController, ResourcesController, MigrationsController, WarningsController, ...(booted.config.BERTH_TEST_HOOKS ? [TestingController] : [])],
      providers: [{ provide: ServerInfo, useValue: booted.serverInfo }, UnhandledExceptionsLog],
    };
  }
}
