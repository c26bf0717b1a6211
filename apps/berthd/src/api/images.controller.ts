import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { ValidationError } from '#core';
import {
  BuildImageCommand,
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteImageCommand,
  GetAliasQuery,
  GetImageQuery,
  ImportImageCommand,
  ListAliasesQuery,
  ListImagesQuery,
  parsePublishOptions,
  RenameAliasCommand,
  UpdateAliasCommand,
  UpdateImageCommand,
} from '#images';
import { PublishInstanceCommand } from '#instances';
import { OperationRunner, type OperationView } from '#operations';
import { asyncResponse, sync } from '../http/envelope.js';
import { buildOptions, importOptions, isRecipeUpload, uploadBody, uploadLayout } from '../http/image-upload.js';
import { body, fields, recursion } from '../http/params.js';

function accepted(res: Response, op: OperationView) {
  const url = OperationRunner.url(op.id);
  res.status(202).setHeader('Location', url);
  return asyncResponse(url, op);
}

/** Alias names may hold slashes (`debian/12`), sent raw or as %2F. */
const aliasName = (parts: string | string[]) => (Array.isArray(parts) ? parts.join('/') : parts);

@Controller('1.0/images/aliases')
export class ImageAliasesController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  async list(@Query('recursion') r?: string) {
    return sync(await this.queries.execute(new ListAliasesQuery(recursion(r))));
  }

  @Post()
  @HttpCode(200)
  async create(@Body() raw: unknown) {
    const input = fields(body(raw), ['name', 'target', 'description', 'type']);
    await this.commands.execute(new CreateAliasCommand(input.name, input.target, input.description));
    return sync({});
  }

  @Get('*name')
  async get(@Param('name') name: string | string[]) {
    return sync(await this.queries.execute(new GetAliasQuery(aliasName(name))));
  }

  @Put('*name')
  async replace(@Param('name') name: string | string[], @Body() raw: unknown) {
    const input = fields(body(raw), ['target', 'description', 'name', 'type']);
    await this.commands.execute(new UpdateAliasCommand(aliasName(name), 'replace', input.target, input.description));
    return sync({});
  }

  @Patch('*name')
  async merge(@Param('name') name: string | string[], @Body() raw: unknown) {
    const input = fields(body(raw), ['target', 'description', 'name', 'type']);
    await this.commands.execute(new UpdateAliasCommand(aliasName(name), 'merge', input.target, input.description));
    return sync({});
  }

  @Post('*name')
  @HttpCode(200)
  async rename(@Param('name') name: string | string[], @Body() raw: unknown) {
    const input = fields(body(raw), ['name']);
    await this.commands.execute(new RenameAliasCommand(aliasName(name), input.name));
    return sync({});
  }

  @Delete('*name')
  async remove(@Param('name') name: string | string[]) {
    await this.commands.execute(new DeleteAliasCommand(aliasName(name)));
    return sync({});
  }
}

@Controller('1.0/images')
export class ImagesController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  async list(@Query('recursion') r?: string) {
    return sync(await this.queries.execute(new ListImagesQuery(recursion(r))));
  }

  /**
   * A raw or multipart upload, a JSON body whose source is an instance to publish (remote sources
   * are not supported), or recipes to build an image from (Berth's application/x-berth-recipe).
   */
  @Post()
  async upload(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    if (/^application\/json/i.test(req.headers['content-type'] ?? '')) return accepted(res, await this.publish(req.body));
    if (isRecipeUpload(req.headers['content-type'])) {
      const options = buildOptions(req.headers);
      return accepted(res, await this.commands.execute(new BuildImageCommand(uploadBody(req), options)));
    }
    const layout = uploadLayout(req.headers['content-type']);
    const options = importOptions(req.headers);
    return accepted(res, await this.commands.execute(new ImportImageCommand(uploadBody(req), layout, options)));
  }

  private async publish(raw: unknown): Promise<OperationView> {
    const { source, ...rest } = fields(body(raw), ['source', 'aliases', 'properties', 'public', 'filename', 'auto_update', 'compression_algorithm', 'expires_at', 'profiles', 'format']);
    if (typeof source !== 'object' || source === null || Array.isArray(source)) throw new ValidationError('source', 'must be an object like {"type": "instance", "name": "c1"}');
    const { type, name } = source as Record<string, unknown>;
    if (type !== 'instance' && type !== 'container') throw new ValidationError('source.type', 'only "instance" is supported; upload image files with a raw or multipart body');
    if (typeof name !== 'string' || name === '') throw new ValidationError('source.name', 'must be an instance name');
    return this.commands.execute(new PublishInstanceCommand(name, parsePublishOptions(rest)));
  }

  @Get(':fingerprint')
  async get(@Param('fingerprint') fp: string) {
    return sync((await this.queries.execute(new GetImageQuery(fp))).image);
  }

  @Put(':fingerprint')
  async replace(@Param('fingerprint') fp: string, @Body() raw: unknown) {
    const input = fields(body(raw), ['public', 'auto_update', 'properties', 'expires_at', 'profiles', 'fingerprint', 'aliases', 'architecture', 'cached', 'filename', 'size', 'type', 'created_at', 'last_used_at', 'uploaded_at', 'update_source']);
    await this.commands.execute(new UpdateImageCommand(fp, 'replace', input));
    return sync({});
  }

  @Patch(':fingerprint')
  async merge(@Param('fingerprint') fp: string, @Body() raw: unknown) {
    const input = fields(body(raw), ['public', 'auto_update', 'properties', 'expires_at', 'profiles']);
    await this.commands.execute(new UpdateImageCommand(fp, 'merge', input));
    return sync({});
  }

  @Delete(':fingerprint')
  async remove(@Param('fingerprint') fp: string, @Res({ passthrough: true }) res: Response) {
    return accepted(res, await this.commands.execute(new DeleteImageCommand(fp)));
  }

  /**
   * The image files as imported: one tarball, or multipart metadata + rootfs for a split image,
   * named as LXD names them (`<fingerprint>.tar.xz`; `meta-<fingerprint>.tar.gz` + `<fingerprint>.tar.gz`).
   */
  @Get(':fingerprint/export')
  async export(@Param('fingerprint') fp: string, @Res() res: Response, @Headers('x-request-id') _id?: string) {
    const { files, names, kind } = await this.queries.execute(new GetImageQuery(fp));
    if (kind === 'unified') {
      const { size } = await stat(files[0]);
      res.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': size,
        'Content-Disposition': `attachment; filename=${names[0]}`,
      });
      await pipeline(createReadStream(files[0]), res);
      return;
    }
    const boundary = `berth-${randomBytes(12).toString('hex')}`;
    res.writeHead(200, { 'Content-Type': `multipart/form-data; boundary=${boundary}` });
    const parts = ['metadata', 'rootfs'];
    for (let i = 0; i < files.length; i++) {
      res.write(`--${boundary}\r\nContent-Disposition: form-data; name="${parts[i]}"; filename="${names[i]}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
      await pipeline(createReadStream(files[i]), res, { end: false });
      res.write('\r\n');
    }
    res.end(`--${boundary}--\r\n`);
  }
}
