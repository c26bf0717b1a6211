import { Body, Controller, Get, Inject, Patch, Put } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { GetServerConfigQuery, UpdateServerConfigCommand } from '#server';
import { sync } from '../http/envelope.js';
import { parseBody } from '../http/dto.js';
import { ServerInfo } from '../server-info.js';
import { ServerPutDto } from './dto/server.dto.js';

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
    const { config } = parseBody(ServerPutDto, raw);
    await this.commands.execute(new UpdateServerConfigCommand('replace', config ?? {}));
    return sync({});
  }

  @Patch('1.0')
  async merge(@Body() raw: unknown) {
    const { config } = parseBody(ServerPutDto, raw);
    await this.commands.execute(new UpdateServerConfigCommand('merge', config ?? {}));
    return sync({});
  }
}
