import { Command } from '@nestjs/cqrs';

/** `PUT` (replace) or `PATCH` (merge) of a pool: its description and user.* keys. */
export class UpdateStoragePoolCommand extends Command<void> {
  constructor(
    readonly name: string,
    readonly mode: 'replace' | 'merge',
    readonly changes: { description?: unknown; config?: unknown },
    readonly ifMatch?: string,
  ) {
    super();
  }
}
