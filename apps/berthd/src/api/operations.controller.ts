import { Controller, Delete, Get, Param, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { CancelOperationCommand, GetOperationQuery, ListOperationsQuery, WaitOperationQuery } from '#operations';
import { sync } from '../http/envelope.js';
import { recursion } from '../http/params.js';

@Controller('1.0/operations')
export class OperationsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  async list(@Query('recursion') r?: string) {
    return sync(await this.queries.execute(new ListOperationsQuery(recursion(r))));
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return sync(await this.queries.execute(new GetOperationQuery(id)));
  }

  @Get(':id/wait')
  async wait(@Param('id') id: string, @Query('timeout') timeout?: string) {
    const seconds = timeout === undefined || timeout === '' ? -1 : Number(timeout);
    if (!Number.isFinite(seconds) || (seconds < 0 && seconds !== -1)) throw new ValidationError('timeout', 'must be a number of seconds, or -1');
    return sync(await this.queries.execute(new WaitOperationQuery(id, seconds)));
  }

  @Delete(':id')
  async cancel(@Param('id') id: string) {
    await this.commands.execute(new CancelOperationCommand(id));
    return sync({});
  }
}
