import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import {
  CreateProfileCommand,
  DeleteProfileCommand,
  GetProfileQuery,
  ListProfilesQuery,
  RenameProfileCommand,
  UpdateProfileCommand,
} from '#profiles';
import { sync } from '../http/envelope.js';
import { body, fields, recursion } from '../http/params.js';

/** Read-only fields a client may send back unchanged from a GET (LXD's Go decoder ignores them). */
const ECHOED = ['name', 'used_by', 'project'];
const EDITABLE = ['description', 'config', 'devices'];

@Controller('1.0/profiles')
export class ProfilesController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  async list(@Query('recursion') r?: string) {
    return sync(await this.queries.execute(new ListProfilesQuery(recursion(r))));
  }

  @Post()
  @HttpCode(200)
  async create(@Body() raw: unknown) {
    const input = fields(body(raw), ['name', ...EDITABLE]);
    await this.commands.execute(new CreateProfileCommand({ name: input.name, description: input.description, config: input.config, devices: input.devices }));
    return sync({});
  }

  @Get(':name')
  async get(@Param('name') name: string, @Res({ passthrough: true }) res: Response) {
    const { profile, etag } = await this.queries.execute(new GetProfileQuery(name));
    res.setHeader('ETag', `"${etag}"`);
    return sync(profile);
  }

  @Put(':name')
  async replace(@Param('name') name: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    const input = fields(body(raw), [...EDITABLE, ...ECHOED]);
    await this.commands.execute(new UpdateProfileCommand(name, 'replace', input, ifMatch));
    return sync({});
  }

  @Patch(':name')
  async merge(@Param('name') name: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    const input = fields(body(raw), [...EDITABLE, ...ECHOED]);
    await this.commands.execute(new UpdateProfileCommand(name, 'merge', input, ifMatch));
    return sync({});
  }

  @Post(':name')
  @HttpCode(200)
  async rename(@Param('name') name: string, @Body() raw: unknown) {
    const input = fields(body(raw), ['name']);
    await this.commands.execute(new RenameProfileCommand(name, input.name));
    return sync({});
  }

  @Delete(':name')
  async remove(@Param('name') name: string) {
    await this.commands.execute(new DeleteProfileCommand(name));
    return sync({});
  }
}
