import { pipeline } from 'node:stream/promises';
import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { DeleteInstanceFileCommand, GetInstanceFileQuery, PushInstanceFileCommand } from '#instances';
import { sync } from '../http/envelope.js';
import { parsePushHeaders } from '../http/file-headers.js';
import { queryText } from '../http/params.js';

/**
 * /1.0/instances/{name}/files?path= (LXD's instance files API), also as /1.0/containers/...
 * Paths are resolved inside the instance's root filesystem on the host, for a stopped or a
 * running instance alike; unlike LXD, which enters a running container's mount namespace, files
 * under mounts the container makes itself (tmpfs on /run or /tmp) are not seen: what is read and
 * written is the root filesystem underneath.
 */
@Controller(['1.0/instances', '1.0/containers'])
export class InstanceFilesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** A file's bytes (streamed), a directory's names (sync JSON) or a symlink's target, with X-LXD-* headers. */
  @Get(':name/files')
  async pull(@Param('name') name: string, @Query('path') path: unknown, @Res() res: Response): Promise<void> {
    const entry = await this.queries.execute(new GetInstanceFileQuery(name, queryText(path)));
    res.setHeader('X-LXD-uid', String(entry.uid));
    res.setHeader('X-LXD-gid', String(entry.gid));
    res.setHeader('X-LXD-mode', entry.mode.toString(8).padStart(4, '0'));
    res.setHeader('X-LXD-type', entry.type);
    if (entry.type === 'directory') {
      res.status(200).json(sync(entry.entries));
      return;
    }
    res.status(200).setHeader('Content-Type', 'application/octet-stream');
    if (entry.type === 'symlink') {
      res.end(entry.target);
      return;
    }
    await pipeline(entry.stream, res);
  }

  @Post(':name/files')
  @HttpCode(200)
  async push(@Param('name') name: string, @Query('path') path: unknown, @Req() req: Request) {
    await this.commands.execute(new PushInstanceFileCommand(name, queryText(path), parsePushHeaders(req.headers), req));
    return sync({});
  }

  @Delete(':name/files')
  async remove(@Param('name') name: string, @Query('path') path: unknown) {
    await this.commands.execute(new DeleteInstanceFileCommand(name, queryText(path)));
    return sync({});
  }
}
