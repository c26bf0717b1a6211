import { Query } from '@nestjs/cqrs';
import type { WarningStatus, WarningView } from '../../domain/warning.js';

/** recursion 0: the warnings' paths; 1: the warnings. `status` keeps those with that status only. */
export class ListWarningsQuery extends Query<string[] | WarningView[]> {
  constructor(readonly recursion: 0 | 1, readonly status?: WarningStatus) {
    super();
  }
}
