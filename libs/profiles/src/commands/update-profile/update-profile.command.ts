import { Command } from '@nestjs/cqrs';
import type { ProfileChanges } from '../../domain/profile.js';

/** `replace` is PUT, `merge` is PATCH. `ifMatch` is the client's If-Match header, if any. */
export class UpdateProfileCommand extends Command<void> {
  constructor(readonly name: string, readonly mode: 'replace' | 'merge', readonly changes: ProfileChanges, readonly ifMatch?: string) {
    super();
  }
}
