import { Command } from '@nestjs/cqrs';
import type { AppliedSetting } from '#quotas';
import type { InstanceChanges } from '../../domain/instance.js';

/** `replace` is PUT, `merge` is PATCH. */
export class UpdateInstanceCommand extends Command<AppliedSetting[]> {
  constructor(readonly name: string, readonly mode: 'replace' | 'merge', readonly changes: InstanceChanges, readonly ifMatch?: string) {
    super();
  }
}
