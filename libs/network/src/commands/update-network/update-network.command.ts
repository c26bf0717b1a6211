import { Command } from '@nestjs/cqrs';

/** What PUT sends; PATCH sends any subset of it. */
export interface NetworkChanges {
  description?: unknown;
  config?: unknown;
}

/** `replace` is PUT (the config given is the whole config), `merge` is PATCH (keys given replace those keys). */
export class UpdateNetworkCommand extends Command<void> {
  constructor(readonly name: string, readonly mode: 'replace' | 'merge', readonly changes: NetworkChanges, readonly ifMatch?: string) {
    super();
  }
}
