import { Command } from '@nestjs/cqrs';

/** Another context's process owns the stopped instance for now (a VM import): no start, rename or change until released. */
export class HoldInstanceCommand extends Command<void> {
  constructor(
    readonly name: string,
    /** Shown to whoever is refused, e.g. "Importing a VM (operation /1.0/operations/…)". */
    readonly reason: string,
  ) {
    super();
  }
}

/** The process that held the instance is done with it. */
export class ReleaseInstanceCommand extends Command<void> {
  constructor(readonly name: string) {
    super();
  }
}
