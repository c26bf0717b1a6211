import { Injectable, Module } from '@nestjs/common';
import { BERTH_CONFIG, LOGGER, type BerthConfig, type Logger } from '#core';
import { GuestRoot } from './guest-root.js';
import { Runtime } from './runtime.js';

/** Opens guest roots (a directory tree walked with openat2 RESOLVE_IN_ROOT): the port handlers are given, so specs can fake it. */
@Injectable()
export class GuestRoots {
  open(root: string): GuestRoot {
    return new GuestRoot(root);
  }
}

/** The runtime as a port: one Runtime for the daemon's BERTH_DIR, and guest roots. */
@Module({
  providers: [
    { provide: Runtime, useFactory: (config: BerthConfig, logger: Logger) => new Runtime({ berthDir: config.BERTH_DIR, logger }), inject: [BERTH_CONFIG, LOGGER] },
    GuestRoots,
  ],
  exports: [Runtime, GuestRoots],
})
export class RuntimeModule {}
