import { Body, Controller, Delete, Get, Param, Patch, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ChangeWarningStatusCommand, DeleteWarningCommand, GetWarningQuery, ListWarningsQuery, statusFilter } from '#warnings';
import { sync } from '../http/envelope.js';
import { body, fields, queryText, recursion } from '../http/params.js';

/** Read-only fields a client may send back unchanged from a GET (LXD's Go decoder ignores them). */
const ECHOED = ['uuid', 'location', 'project', 'type', 'count', 'first_seen_at', 'last_seen_at', 'last_message', 'severity', 'entity_url'];

/** LXD's /1.0/warnings: the host's warnings, acknowledged, reset to new, or deleted by clients. */
@Controller('1.0/warnings')
export class WarningsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  async list(@Query('recursion') r?: string, @Query('filter') filter?: unknown) {
    return sync(await this.queries.execute(new ListWarningsQuery(recursion(r), statusFilter(queryText(filter)))));
  }

  @Get(':uuid')
  async get(@Param('uuid') uuid: string) {
    return sync(await this.queries.execute(new GetWarningQuery(uuid)));
  }

  @Put(':uuid')
  async replace(@Param('uuid') uuid: string, @Body() raw: unknown) {
    const input = fields(body(raw), ['status', ...ECHOED]);
    await this.commands.execute(new ChangeWarningStatusCommand(uuid, input.status));
    return sync({});
  }

  @Patch(':uuid')
  async merge(@Param('uuid') uuid: string, @Body() raw: unknown) {
    const input = fields(body(raw), ['status', ...ECHOED]);
    await this.commands.execute(new ChangeWarningStatusCommand(uuid, input.status));
    return sync({});
  }

  @Delete(':uuid')
  async remove(@Param('uuid') uuid: string) {
    await this.commands.execute(new DeleteWarningCommand(uuid));
    return sync({});
  }
}
