import type { Readable } from 'node:stream';
import { Command, Query } from '@nestjs/cqrs';
import type { GuestEntry, PushSpec } from './instance-root.js';

/** GET /1.0/instances/{name}/files?path= : a file's content, a directory's names or a symlink's target. */
export class GetInstanceFileQuery extends Query<GuestEntry> {
  constructor(readonly name: string, readonly path: string | undefined) {
    super();
  }
}

/** POST /1.0/instances/{name}/files?path=: what to write (from LXD's X-LXD-* headers, parsed at the edge); `body` is streamed. */
export class PushInstanceFileCommand extends Command<void> {
  constructor(readonly name: string, readonly path: string | undefined, readonly spec: PushSpec, readonly body: Readable) {
    super();
  }
}

/** DELETE /1.0/instances/{name}/files?path= */
export class DeleteInstanceFileCommand extends Command<void> {
  constructor(readonly name: string, readonly path: string | undefined) {
    super();
  }
}

export type { GuestEntry, PushSpec };
