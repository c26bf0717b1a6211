import { Command } from '@nestjs/cqrs';

/** PUT/PATCH /1.0/warnings/{uuid}: `status` is `acknowledged` or `new`, as the client sent it (validated by the handler). */
export class ChangeWarningStatusCommand extends Command<void> {
  constructor(readonly uuid: string, readonly status: unknown) {
    super();
  }
}
