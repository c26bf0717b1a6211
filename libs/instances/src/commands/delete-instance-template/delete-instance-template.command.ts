import { Command } from '@nestjs/cqrs';

/** DELETE /1.0/instances/{name}/metadata/templates?path= */
export class DeleteInstanceTemplateCommand extends Command<void> {
  constructor(
    readonly name: string,
    readonly path: string | undefined,
  ) {
    super();
  }
}
