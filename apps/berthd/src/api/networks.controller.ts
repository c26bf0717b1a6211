import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import {
  CreateNetworkCommand,
  DeleteNetworkCommand,
  GetNetworkQuery,
  GetNetworkStateQuery,
  ListNetworkLeasesQuery,
  ListNetworksQuery,
  networkEtag,
  RenameNetworkCommand,
  UpdateNetworkCommand,
} from '#network';
import { sync } from '../http/envelope.js';
import { body, fields, recursion } from '../http/params.js';

/** Read-only fields a client may send back unchanged from a GET (LXD's Go decoder ignores them). */
const ECHOED = ['name', 'type', 'managed', 'status', 'used_by', 'locations', 'project'];
const EDITABLE = ['description', 'config'];

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
    await this.commands.execute(new CreateNetworkCommand(input.name, input.description, input.config, input.type));
    return sync({});
  }

  @Get(':name')
  async get(@Param('name') name: string, @Res({ passthrough: true }) res: Response) {
    const network = await this.queries.execute(new GetNetworkQuery(name));
    res.setHeader('ETag', `"${networkEtag(network)}"`);
    return sync(network);
  }

  @Put(':name')
  async replace(@Param('name') name: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    const input = fields(body(raw), [...EDITABLE, ...ECHOED]);
    await this.commands.execute(new UpdateNetworkCommand(name, 'replace', input, ifMatch));
    return sync({});
  }

  @Patch(':name')
  async merge(@Param('name') name: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    const input = fields(body(raw), [...EDITABLE, ...ECHOED]);
    await this.commands.execute(new UpdateNetworkCommand(name, 'merge', input, ifMatch));
    return sync({});
  }

  @Post(':name')
  @HttpCode(200)
  async rename(@Param('name') name: string, @Body() raw: unknown) {
    const input = fields(body(raw), ['name']);
    await this.commands.execute(new RenameNetworkCommand(name, input.name));
    return sync({});
  }

  @Get(':name/state')
  async state(@Param('name') name: string) {
    return sync(await this.queries.execute(new GetNetworkStateQuery(name)));
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
