import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetInstanceQuery } from '#instances';
import { sync } from '../http/envelope.js';

/**
 * /1.0/instances/{name}/backups (LXD's `container_backup` API), also as /1.0/containers/...
 * Berth does not make instance backups yet, so an existing instance has none: the list is empty
 * at every recursion level, and an unknown instance answers 404. `lxc info <name>` reads it.
 */
@Controller(['1.0/instances', '1.0/containers'])
export class InstanceBackupsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':name/backups')
  async list(@Param('name') name: string) {
    await this.queries.execute(new GetInstanceQuery(name));
    return sync([]);
  }
}
