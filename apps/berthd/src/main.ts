#!/usr/bin/env node
import 'reflect-metadata';
import { mkdir, chmod, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { LoggerService } from '@nestjs/common';
import { ConfigError, createLogger, Database, loadConfig, type Logger } from '#core';
import { EventHub, OperationRunner, WebsocketOperations } from '#operations';
import { migrations } from '../../../migrations/index.js';
import { AppModule } from './app.module.js';
import { entities } from './entities.js';
import { EventsGateway } from './events/events.gateway.js';
import { OperationWebsocketGateway } from './events/operation-websocket.gateway.js';
import { LxdErrorFilter, toErrorResponse } from './http/error.filter.js';
import { jsonBody } from './http/json-body.js';
import { requestContext } from './http/request-context.js';
import { ServerInfo } from './server-info.js';
import type { NextFunction, Request, Response } from 'express';

const VERSION = (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

class NestPinoLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}
  log(message: unknown) { this.pino.debug({ nest: true }, String(message)); }
  error(message: unknown, trace?: string) { this.pino.error({ nest: true, trace }, String(message)); }
  warn(message: unknown) { this.pino.warn({ nest: true }, String(message)); }
  debug(message: unknown) { this.pino.debug({ nest: true }, String(message)); }
  verbose(message: unknown) { this.pino.trace({ nest: true }, String(message)); }
}

/** Refuses to start over a live daemon; removes a socket left by a dead one. */
async function claimSocket(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new ConfigError(`Another berthd is already serving ${path}`);
  await unlink(path).catch(() => undefined);
}

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const hub = new EventHub();
  const log = createLogger(config.BERTH_LOG_LEVEL, hub.loggingStream());
  const socketPath = join(config.BERTH_DIR, 'unix.socket');
  await mkdir(config.BERTH_DIR, { recursive: true, mode: 0o711 });
  await claimSocket(socketPath);

  const database = await Database.open(config, log, entities, migrations);
  let app: NestExpressApplication;
  let events: EventsGateway;
  let sessions: OperationWebsocketGateway;
  try {
    const [{ server_version: pgVersion }] = (await database.dataSource.query('SHOW server_version')) as Array<{ server_version: string }>;
    const serverInfo = new ServerInfo({ version: VERSION, database: { type: 'postgres', embedded: database.embedded !== undefined, version: pgVersion } });

    app = await NestFactory.create<NestExpressApplication>(AppModule.register({ config, logger: log, database, hub, serverInfo }), {
      bodyParser: false,
      logger: new NestPinoLogger(log),
    });
    app.set('x-powered-by', false);
    app.set('etag', false);
    app.use(requestContext(log));
    app.use(jsonBody);
    app.useGlobalFilters(new LxdErrorFilter(log));
    app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
      const { status, body } = toErrorResponse(err, req, log);
      res.status(status).json(body);
    });
    events = new EventsGateway(hub, log.child({ component: 'events' }));
    sessions = new OperationWebsocketGateway(app.get(WebsocketOperations));
    events.attach(app.getHttpServer() as Server, [sessions]);
    await app.listen(socketPath);
    await chmod(socketPath, 0o660);
    log.info({ socket: socketPath, database: database.embedded ? 'embedded' : 'external', version: VERSION }, 'berthd ready');
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping (containers keep running)');
    // No new connections; then the running operations end while their listeners still listen: a
    // client waiting on one reads how it ended instead of a closed websocket.
    (app.getHttpServer() as Server).close();
    await app.get(OperationRunner).shutdown();
    await events.close(1000);
    sessions.close();
    await app.close();
    await database.close();
    await unlink(socketPath).catch(() => undefined);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`berthd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
