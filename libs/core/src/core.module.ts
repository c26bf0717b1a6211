import { Module, type DynamicModule } from '@nestjs/common';
import type { BerthConfig } from './config/config.js';
import type { Database } from './database/database.js';
import type { Logger } from './logging/logger.js';
import { TestHooks } from './testing/test-hooks.js';
import { BERTH_CONFIG, DATABASE, LOGGER } from './tokens.js';

/** Provides the booted config, logger, database and test hooks to every context. */
@Module({})
export class CoreModule {
  static forRoot(config: BerthConfig, logger: Logger, database: Database): DynamicModule {
    return {
      module: CoreModule,
      global: true,
      providers: [
        { provide: BERTH_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: DATABASE, useValue: database },
        { provide: TestHooks, useValue: TestHooks.forConfig(config) },
      ],
      exports: [BERTH_CONFIG, LOGGER, DATABASE, TestHooks],
    };
  }
}
