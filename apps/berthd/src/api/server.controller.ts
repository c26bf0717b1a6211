import { Body, Controller, Get, Inject, Patch, Put } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { GetServerConfigQuery, UpdateServerConfigCommand } from '#server';
import { sync } from '../http/envelope.js';
import { body, fields } from '../http/params.js';
import { ServerInfo } from '../server-info.js';

/** Read-only fields of GET /1.0 that a client may send back with PUT. */
const ECHOED = ['api_extensions', 'api_status', 'api_version', 'auth', 'auth_methods', 'public', 'environment', 'auth_user_name', 'auth_user_method'];

@Controller()
export class ServerController {
  constructor(@Inject(ServerInfo) private readonly info: ServerInfo, private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  root() {
    return sync(['/1.0']);
  }

  @Get('1.0')
  async server() {
    return sync(this.info.describe(await this.queries.execute(new GetServerConfigQuery(true))));
  }

  @Put('1.0')
  async replace(@Body() raw: unknown) {
    const input = fields(body(raw), ['config', ...ECHOED]);
    await this.commands.execute(new UpdateServerConfigCommand('replace', input.config));
    return sync({});
  }

  @Patch('1.0')
  async merge(@Body() raw: unknown) {
    const input = fields(body(raw), ['config', ...ECHOED]);
    await this.commands.execute(new UpdateServerConfigCommand('merge', input.config));
    return sync({});
  }
}
