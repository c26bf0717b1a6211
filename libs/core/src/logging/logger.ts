import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/config.js';

export type { Logger };

/** Structured JSON logs on stderr; extra destinations (the events hub) can be attached. */
export function createLogger(level: LogLevel, extra?: DestinationStream): Logger {
  const streams: pino.StreamEntry[] = [];
  if (level !== 'silent') streams.push({ level, stream: pino.destination({ dest: 2, sync: true }) });
  if (extra) streams.push({ level: 'info', stream: extra });
  return pino({ level: level === 'silent' && extra ? 'info' : level, base: { service: 'berthd' } }, pino.multistream(streams));
}
