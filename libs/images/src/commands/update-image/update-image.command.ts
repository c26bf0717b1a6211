import { Command } from '@nestjs/cqrs';

/** PUT replaces the editable fields (public, auto_update, properties, expires_at), PATCH merges. */
export class UpdateImageCommand extends Command<void> {
  constructor(readonly reference: string, readonly mode: 'replace' | 'merge', readonly changes: Record<string, unknown>) {
    super();
  }
}
