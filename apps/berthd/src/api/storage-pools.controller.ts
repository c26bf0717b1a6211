import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import { parseFilter, ValidationError } from '#core';
import {
  ChangeStorageVolumeCommand,
  CreateStoragePoolCommand,
  DeleteStoragePoolCommand,
  GetStoragePoolQuery,
  GetStoragePoolResourcesQuery,
  GetStorageVolumeQuery,
  GetStorageVolumeStateQuery,
  isVolumeType,
  ListStoragePoolsQuery,
  ListStorageVolumesQuery,
  poolEtag,
  UpdateStoragePoolCommand,
  type VolumeType,
} from '#storage';
import { sync } from '../http/envelope.js';
import { body, fields, queryText, recursion } from '../http/params.js';

/** Read-only fields a client may send back unchanged from a GET (LXD's Go decoder ignores them). */
const ECHOED = ['name', 'driver', 'status', 'used_by', 'locations'];
const EDITABLE = ['description', 'config'];

/** A volume type from the path: one of LXD's four, else LXD's 400. */
function volumeType(type: string): VolumeType {
  if (!isVolumeType(type)) throw new ValidationError('type', `"${type}" is not a storage volume type (container, image, virtual-machine or custom)`);
  return type;
}

/**
 * LXD's storage pools API over Berth's one pool, `default`, and its volumes (instances' roots and
 * unpacked images). `filter=orphan` on the volumes is Berth's own: the volumes nothing owns.
 */
@Controller('1.0/storage-pools')
export class StoragePoolsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  async list(@Query('recursion') r?: string, @Query('filter') filter?: unknown) {
    return sync(await this.queries.execute(new ListStoragePoolsQuery(atMostOne(recursion(r, 2)), parseFilter(queryText(filter)))));
  }

  @Post()
  @HttpCode(200)
  async create(@Body() raw: unknown) {
    await this.commands.execute(new CreateStoragePoolCommand(body(raw).name));
    return sync({});
  }

  @Get(':pool')
  async get(@Param('pool') pool: string, @Res({ passthrough: true }) res: Response) {
    const view = await this.queries.execute(new GetStoragePoolQuery(pool));
    res.setHeader('ETag', `"${poolEtag(view)}"`);
    return sync(view);
  }

  @Put(':pool')
  async replace(@Param('pool') pool: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    const input = fields(body(raw), [...EDITABLE, ...ECHOED]);
    await this.commands.execute(new UpdateStoragePoolCommand(pool, 'replace', input, ifMatch));
    return sync({});
  }

  @Patch(':pool')
  async merge(@Param('pool') pool: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    const input = fields(body(raw), [...EDITABLE, ...ECHOED]);
    await this.commands.execute(new UpdateStoragePoolCommand(pool, 'merge', input, ifMatch));
    return sync({});
  }

  @Delete(':pool')
  async remove(@Param('pool') pool: string) {
    await this.commands.execute(new DeleteStoragePoolCommand(pool));
    return sync({});
  }

  @Get(':pool/resources')
  async resources(@Param('pool') pool: string) {
    return sync(await this.queries.execute(new GetStoragePoolResourcesQuery(pool)));
  }

  @Get(':pool/volumes')
  async volumes(@Param('pool') pool: string, @Query('recursion') r?: string, @Query('filter') filter?: unknown) {
    return sync(await this.queries.execute(new ListStorageVolumesQuery(pool, undefined, atMostOne(recursion(r, 2)), volumeFilter(filter))));
  }

  @Get(':pool/volumes/:type')
  async volumesOfType(@Param('pool') pool: string, @Param('type') type: string, @Query('recursion') r?: string, @Query('filter') filter?: unknown) {
    return sync(await this.queries.execute(new ListStorageVolumesQuery(pool, volumeType(type), atMostOne(recursion(r, 2)), volumeFilter(filter))));
  }

  @Post(':pool/volumes')
  @HttpCode(200)
  async createVolume(@Param('pool') pool: string, @Body() raw: unknown) {
    const type = body(raw).type;
    await this.commands.execute(new ChangeStorageVolumeCommand(pool, 'create', typeof type === 'string' && isVolumeType(type) ? type : undefined));
    return sync({});
  }

  @Post(':pool/volumes/:type')
  @HttpCode(200)
  async createVolumeOfType(@Param('pool') pool: string, @Param('type') type: string) {
    await this.commands.execute(new ChangeStorageVolumeCommand(pool, 'create', volumeType(type)));
    return sync({});
  }

  @Get(':pool/volumes/:type/:name')
  async volume(@Param('pool') pool: string, @Param('type') type: string, @Param('name') name: string) {
    return sync(await this.queries.execute(new GetStorageVolumeQuery(pool, volumeType(type), name)));
  }

  @Get(':pool/volumes/:type/:name/state')
  async volumeState(@Param('pool') pool: string, @Param('type') type: string, @Param('name') name: string) {
    return sync(await this.queries.execute(new GetStorageVolumeStateQuery(pool, volumeType(type), name)));
  }

  @Put(':pool/volumes/:type/:name')
  async replaceVolume(@Param('pool') pool: string, @Param('type') type: string, @Param('name') name: string) {
    await this.commands.execute(new ChangeStorageVolumeCommand(pool, 'update', volumeType(type), name));
    return sync({});
  }

  @Patch(':pool/volumes/:type/:name')
  async mergeVolume(@Param('pool') pool: string, @Param('type') type: string, @Param('name') name: string) {
    await this.commands.execute(new ChangeStorageVolumeCommand(pool, 'update', volumeType(type), name));
    return sync({});
  }

  @Post(':pool/volumes/:type/:name')
  @HttpCode(200)
  async renameVolume(@Param('pool') pool: string, @Param('type') type: string, @Param('name') name: string) {
    await this.commands.execute(new ChangeStorageVolumeCommand(pool, 'rename', volumeType(type), name));
    return sync({});
  }

  @Delete(':pool/volumes/:type/:name')
  async removeVolume(@Param('pool') pool: string, @Param('type') type: string, @Param('name') name: string) {
    await this.commands.execute(new ChangeStorageVolumeCommand(pool, 'delete', volumeType(type), name));
    return sync({});
  }
}

/** LXD answers any recursion above 0 with the full objects: there is nothing nested below a pool or a volume. */
const atMostOne = (level: 0 | 1 | 2): 0 | 1 => (level === 0 ? 0 : 1);

/** LXD's filter language, or Berth's `orphan`. */
function volumeFilter(raw: unknown) {
  const text = queryText(raw);
  return text === 'orphan' ? 'orphan' : parseFilter(text);
}
