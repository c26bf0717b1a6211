import { Command } from '@nestjs/cqrs';

/** A guest declares its state through the guest API (`PATCH /1.0` on /dev/lxd/sock). */
export class DeclareGuestStateCommand extends Command<void> {
  constructor(readonly name: string, readonly state: 'Ready' | 'Started') {
    super();
  }
}
