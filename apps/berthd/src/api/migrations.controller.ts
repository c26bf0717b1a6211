import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetMigrationReportQuery, ListMigrationReportsQuery } from '#migrate';
import { sync } from '../http/envelope.js';
import { recursion } from '../http/params.js';

/** The reports of VM imports, one per imported instance (`berth migration show <name>`). */
@Controller('1.0/migrations')
export class MigrationsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  async list(@Query('recursion') r?: string) {
    return sync(await this.queries.execute(new ListMigrationReportsQuery(recursion(r))));
  }

  @Get(':name')
  async get(@Param('name') name: string) {
    return sync(await this.queries.execute(new GetMigrationReportQuery(name)));
  }
}
