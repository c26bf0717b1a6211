import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetResourcesQuery } from '#instances';
import { sync } from '../http/envelope.js';

@Controller('1.0/resources')
export class ResourcesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  async get() {
    return sync(await this.queries.execute(new GetResourcesQuery()));
  }
}
