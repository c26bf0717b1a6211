import { Command } from '@nestjs/cqrs';

/** DELETE /1.0/instances/{name}/console: empties the instance's console log. */
export class ClearConsoleLogCommand extends Command<void> {
  constructor(readonly name: string) {
    super();
  }
}
