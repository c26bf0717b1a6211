import { Command } from '@nestjs/cqrs';

/** PUT /1.0 replaces the config, PATCH /1.0 merges it (an empty value removes a key). */
export class UpdateServerConfigCommand extends Command<void> {
  constructor(readonly mode: 'replace' | 'merge', readonly config: Readonly<Record<string, string>>) {
    super();
  }
}
