import { Global, Module } from '@nestjs/common';
import { GuestApiPort } from '#instances';
import { RuntimeModule } from '#runtime';
import { DevlxdSockets } from './devlxd/devlxd-sockets.js';
import { InstanceGoneHandler } from './events/instance-gone.handler.js';

/**
 * The guest API: `/dev/lxd/sock` in each container (LXD's devlxd). Global so that the start of
 * an instance (in instances) finds it through instances' own GuestApiPort.
 */
@Global()
@Module({
  imports: [RuntimeModule],
  providers: [DevlxdSockets, { provide: GuestApiPort, useExisting: DevlxdSockets }, InstanceGoneHandler],
  exports: [GuestApiPort],
})
export class GuestApiModule {}
