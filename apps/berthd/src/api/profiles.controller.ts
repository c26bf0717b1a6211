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
import { parseBody } from '../http/dto.js';
import { recursion } from '../http/params.js';
import { ProfilePostDto, ProfilePutDto, ProfilesPostDto } from './dto/profile.dto.js';

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
    await this.commands.execute(new CreateProfileCommand(parseBody(ProfilesPostDto, raw)));
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
    await this.commands.execute(new UpdateProfileCommand(name, 'replace', parseBody(ProfilePutDto, raw), ifMatch));
    return sync({});
  }

  @Patch(':name')
  async merge(@Param('name') name: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    await this.commands.execute(new UpdateProfileCommand(name, 'merge', parseBody(ProfilePutDto, raw), ifMatch));
    return sync({});
  }

  @Post(':name')
  @HttpCode(200)
  async rename(@Param('name') name: string, @Body() raw: unknown) {
    await this.commands.execute(new RenameProfileCommand(name, parseBody(ProfilePostDto, raw).name));
    return sync({});
  }

  @Delete(':name')
  async remove(@Param('name') name: string) {
    await this.commands.execute(new DeleteProfileCommand(name));
    return sync({});
  }
}
