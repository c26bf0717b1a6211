import { Command } from '@nestjs/cqrs';

/** `POST /1.0/storage-pools`. Berth has its one pool; this answers why a new one is not made. */
export class CreateStoragePoolCommand extends Command<void> {
  constructor(readonly name: unknown) {
    super();
  }
}
