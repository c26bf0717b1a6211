import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import {
  AttachConsoleCommand,
  ChangeInstanceStateCommand,
  ClearConsoleLogCommand,
  ConsoleLogs,
  ExecInInstanceCommand,
  ExecLogs,
  CreateInstanceCommand,
  DeleteInstanceCommand,
  GetInstanceQuery,
  GetInstanceStateQuery,
  ListInstancesQuery,
  RenameInstanceCommand,
  UpdateInstanceCommand,
  parseSource,
} from '#instances';
import { parseFilter } from '#core';
import { ImportVmCommand, isImportSource, parseImportSource } from '#migrate';
import { OperationRunner, type OperationView } from '#operations';
import { asyncResponse, sync } from '../http/envelope.js';
import { parseBody } from '../http/dto.js';
import { recursion } from '../http/params.js';
import { InstanceConsolePostDto, InstanceExecPostDto } from './dto/instance-exec.dto.js';
import { InstanceStatePutDto } from './dto/instance-state.dto.js';
import { InstancePostDto, InstancePutDto, InstancesPostDto } from './dto/instance.dto.js';

/** /1.0/instances, also answered as /1.0/containers for LXD's older clients. */
@Controller(['1.0/instances', '1.0/containers'])
export class InstancesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly operations: OperationRunner,
    private readonly execLogs: ExecLogs,
    private readonly consoleLogs: ConsoleLogs,
  ) {}

  private accepted(res: Response, op: OperationView) {
    const url = OperationRunner.url(op.id);
    res.status(202).setHeader('Location', url);
    return asyncResponse(url, op);
  }

  /** Changes made synchronously still answer as an operation, as LXD clients wait on one. */
  private async done(res: Response, description: string, name: string, result?: Record<string, unknown>) {
    const op = await this.operations.start({ description, resources: { instances: [`/1.0/instances/${name}`] }, run: async () => result });
    return this.accepted(res, op);
  }

  @Get()
  async list(@Query('recursion') r?: string, @Query('filter') filter?: string) {
    return sync(await this.queries.execute(new ListInstancesQuery(recursion(r, 2), parseFilter(filter))));
  }

  @Post()
  async create(@Body() raw: unknown, @Res({ passthrough: true }) res: Response) {
    const { source, start = false, ...definition } = parseBody(InstancesPostDto, raw);
    // A VM import (source.type "migration", mode "import") belongs to the migrate context.
    const command = isImportSource(source)
      ? new ImportVmCommand(parseImportSource(source), definition, start)
      : new CreateInstanceCommand(definition, parseSource(source), start);
    return this.accepted(res, await this.commands.execute(command));
  }

  @Get(':name')
  async get(@Param('name') name: string, @Res({ passthrough: true }) res: Response) {
    const { instance, etag } = await this.queries.execute(new GetInstanceQuery(name));
    res.setHeader('ETag', `"${etag}"`);
    return sync(instance);
  }

  /** Snapshots are not implemented yet, so an existing instance has none. */
  @Get(':name/snapshots')
  async snapshots(@Param('name') name: string) {
    await this.queries.execute(new GetInstanceQuery(name));
    return sync([]);
  }

  @Get(':name/state')
  async state(@Param('name') name: string) {
    return sync(await this.queries.execute(new GetInstanceStateQuery(name)));
  }

  @Post(':name/exec')
  async exec(@Param('name') name: string, @Body() raw: unknown, @Res({ passthrough: true }) res: Response) {
    const request = parseBody(InstanceExecPostDto, raw).toRequest();
    return this.accepted(res, await this.commands.execute(new ExecInInstanceCommand(name, request)));
  }

  /** The instance's log files (LXD lists lxc.log, and exec output files under exec-output/). */
  @Get(':name/logs')
  async logs(@Param('name') name: string) {
    await this.queries.execute(new GetInstanceQuery(name));
    return sync([`/1.0/instances/${encodeURIComponent(name)}/logs/lxc.log`]);
  }

  /**
   * What `lxc info --show-log` reads. Berth has no liblxc log: its berth-monitor writes nothing
   * but the console (systemd's boot messages and the console's output, in console.log beside
   * its state in $BERTH_DIR/containers/<name>/), so that is what this answers, raw like LXD.
   */
  @Get(':name/logs/lxc.log')
  async lxcLog(@Param('name') name: string, @Res() res: Response) {
    await this.queries.execute(new GetInstanceQuery(name));
    res.type('application/octet-stream').send(await this.consoleLogs.read(name));
  }

  @Get(':name/logs/exec-output/:file')
  async execOutput(@Param('name') name: string, @Param('file') file: string, @Res() res: Response) {
    await this.queries.execute(new GetInstanceQuery(name));
    res.type('application/octet-stream').send(await this.execLogs.read(name, file));
  }

  @Delete(':name/logs/exec-output/:file')
  async deleteExecOutput(@Param('name') name: string, @Param('file') file: string) {
    await this.queries.execute(new GetInstanceQuery(name));
    await this.execLogs.delete(name, file);
    return sync({});
  }

  @Post(':name/console')
  async console(@Param('name') name: string, @Body() raw: unknown, @Res({ passthrough: true }) res: Response) {
    parseBody(InstanceConsolePostDto, raw);
    return this.accepted(res, await this.commands.execute(new AttachConsoleCommand(name)));
  }

  /** The console log as it is (LXD answers it raw, not in an envelope). */
  @Get(':name/console')
  async consoleLog(@Param('name') name: string, @Res() res: Response) {
    await this.queries.execute(new GetInstanceQuery(name));
    res.type('application/octet-stream').send(await this.consoleLogs.read(name));
  }

  @Delete(':name/console')
  async clearConsoleLog(@Param('name') name: string) {
    await this.commands.execute(new ClearConsoleLogCommand(name));
    return sync({});
  }

  @Put(':name/state')
  async changeState(@Param('name') name: string, @Body() raw: unknown, @Res({ passthrough: true }) res: Response) {
    const { action, timeout, force } = parseBody(InstanceStatePutDto, raw);
    return this.accepted(res, await this.commands.execute(new ChangeInstanceStateCommand(name, action, timeout === undefined || timeout === -1 ? 30 : timeout, force === true)));
  }

  @Put(':name')
  async replace(@Param('name') name: string, @Body() raw: unknown, @Headers('if-match') ifMatch: string | undefined, @Res({ passthrough: true }) res: Response) {
    const changes = parseBody(InstancePutDto, raw);
    const applied = await this.commands.execute(new UpdateInstanceCommand(name, 'replace', changes, ifMatch));
    return this.done(res, 'Updating instance', name, applied.length > 0 ? { applied } : undefined);
  }

  @Patch(':name')
  async merge(@Param('name') name: string, @Body() raw: unknown, @Headers('if-match') ifMatch?: string) {
    const changes = parseBody(InstancePutDto, raw);
    const applied = await this.commands.execute(new UpdateInstanceCommand(name, 'merge', changes, ifMatch));
    return sync(applied.length > 0 ? { applied } : {});
  }

  @Post(':name')
  @HttpCode(202)
  async rename(@Param('name') name: string, @Body() raw: unknown, @Res({ passthrough: true }) res: Response) {
    const { name: newName } = parseBody(InstancePostDto, raw);
    await this.commands.execute(new RenameInstanceCommand(name, newName));
    return this.done(res, 'Renaming instance', newName);
  }

  @Delete(':name')
  async remove(@Param('name') name: string, @Res({ passthrough: true }) res: Response) {
    await this.commands.execute(new DeleteInstanceCommand(name));
    return this.done(res, 'Deleting instance', name);
  }
}
