import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { CreateNetworkCommand, DeleteNetworkCommand, GetNetworkQuery, ListNetworkLeasesQuery, ListNetworksQuery } from '#network';
import { sync } from '../http/envelope.js';
import { body, fields, recursion } from '../http/params.js';

@Controller('1.0/networks')
export class NetworksController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  async list(@Query('recursion') r?: string) {
    return sync(await this.queries.execute(new ListNetworksQuery(recursion(r))));
  }

  @Post()
  @HttpCode(200)
  async create(@Body() raw: unknown) {
    const input = fields(body(raw), ['name', 'description', 'type', 'config']);
    await this.commands.execute(new CreateNetworkCommand(input.name, input.description, input.config));
    return sync({});
  }

  @Get(':name')
  async get(@Param('name') name: string) {
    return sync(await this.queries.execute(new GetNetworkQuery(name)));
  }

  @Get(':name/leases')
  async leases(@Param('name') name: string) {
    return sync(await this.queries.execute(new ListNetworkLeasesQuery(name)));
  }

  @Delete(':name')
  async remove(@Param('name') name: string) {
    await this.commands.execute(new DeleteNetworkCommand(name));
    return sync({});
  }
}
