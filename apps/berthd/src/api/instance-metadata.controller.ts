import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import {
  DeleteInstanceTemplateCommand,
  GetInstanceMetadataQuery,
  GetInstanceTemplateQuery,
  SetInstanceTemplateCommand,
  UpdateInstanceMetadataCommand,
} from '#instances';
import { sync } from '../http/envelope.js';
import { queryText } from '../http/params.js';

/**
 * /1.0/instances/{name}/metadata[/templates] (LXD's container_edit_metadata), also as
 * /1.0/containers/...: the image metadata (metadata.yaml) and template files of an instance's
 * volume, as `lxc config metadata` and `lxc config template` use them. Template bodies are raw
 * bytes both ways.
 */
@Controller(['1.0/instances', '1.0/containers'])
export class InstanceMetadataController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get(':name/metadata')
  async get(@Param('name') name: string, @Res({ passthrough: true }) res: Response) {
    const { metadata, etag } = await this.queries.execute(new GetInstanceMetadataQuery(name));
    res.setHeader('ETag', `"${etag}"`);
    return sync(metadata);
  }

  @Put(':name/metadata')
  async replace(@Param('name') name: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    await this.commands.execute(new UpdateInstanceMetadataCommand(name, 'replace', raw ?? {}, ifMatch));
    return sync({});
  }

  @Patch(':name/metadata')
  async merge(@Param('name') name: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    await this.commands.execute(new UpdateInstanceMetadataCommand(name, 'merge', raw ?? {}, ifMatch));
    return sync({});
  }

  /** Without `path`, the template file names (sync JSON); with it, the file's bytes. */
  @Get(':name/metadata/templates')
  async getTemplate(@Param('name') name: string, @Query('path') path: unknown, @Res() res: Response): Promise<void> {
    const result = await this.queries.execute(new GetInstanceTemplateQuery(name, queryText(path)));
    if (result.kind === 'list') {
      res.status(200).json(sync(result.names));
      return;
    }
    res.status(200).setHeader('Content-Type', 'application/octet-stream');
    res.end(result.content);
  }

  /** LXD answers POST and PUT alike: the template is created or replaced. */
  @Post(':name/metadata/templates')
  @HttpCode(200)
  async createTemplate(@Param('name') name: string, @Query('path') path: unknown, @Req() req: Request) {
    await this.commands.execute(new SetInstanceTemplateCommand(name, queryText(path), req));
    return sync({});
  }

  @Put(':name/metadata/templates')
  async replaceTemplate(@Param('name') name: string, @Query('path') path: unknown, @Req() req: Request) {
    await this.commands.execute(new SetInstanceTemplateCommand(name, queryText(path), req));
    return sync({});
  }

  @Delete(':name/metadata/templates')
  async deleteTemplate(@Param('name') name: string, @Query('path') path: unknown) {
    await this.commands.execute(new DeleteInstanceTemplateCommand(name, queryText(path)));
    return sync({});
  }
}
