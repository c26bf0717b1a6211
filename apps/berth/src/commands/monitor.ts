// berth monitor: print the daemon's events as they arrive, until interrupted.
import { Option, type Command } from 'commander';
import type { ServerEvent } from '../api.js';
import type { Cli } from '../cli.js';
import { renderYaml } from '../format.js';
import type WebSocket from 'ws';

export const EVENT_FORMATS = ['json', 'yaml'] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

/** One event: a line of JSON, or a YAML document opened by `---` so the stream stays parseable. */
export function renderEvent(event: ServerEvent, format: EventFormat): string {
  return format === 'json' ? JSON.stringify(event) : `---\n${renderYaml(event)}`;
}

export function parseTypes(value: string): string[] {
  return value
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');
}

export function registerMonitorCommand(program: Command, cli: Cli): void {
  program
    .command('monitor')
    .description('Print events as they happen, until interrupted')
    .option('--type <types>', 'event types, comma separated: lifecycle,operation,logging', parseTypes, [])
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(EVENT_FORMATS).default('yaml'),
    )
    .action(async ({ type, format }: { type: string[]; format: EventFormat }) => {
      const socket = await cli.client.subscribe(type, (text) => {
        const event = parseEvent(text);
        if (event) cli.print(renderEvent(event, format));
        else cli.warn(`Warning: skipped an event that is not a JSON object: ${text.slice(0, 80)}`);
      });
      await untilInterrupted(socket);
    });
}

export function parseEvent(text: string): ServerEvent | undefined {
  try {
    const event: unknown = JSON.parse(text);
    return typeof event === 'object' && event !== null && !Array.isArray(event)
      ? (event as ServerEvent)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves when the user interrupts (Ctrl-C or SIGTERM); rejects if berthd ends the stream. */
function untilInterrupted(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    let interrupted = false;
    const stop = () => {
      interrupted = true;
      socket.terminate();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    socket.once('error', reject);
    socket.once('close', () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (interrupted) resolve();
      else reject(new Error('berthd closed the event stream'));
    });
  });
}
