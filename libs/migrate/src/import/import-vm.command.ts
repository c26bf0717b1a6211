import { Command } from '@nestjs/cqrs';
import type { InstanceDefinition } from '#instances';
import type { OperationView } from '#operations';
import type { ImportSource } from './import-source.js';

/**
 * `POST /1.0/instances` with `source.type = "migration"` and `mode = "import"`: a VM's root
 * filesystem (tarball, directory, raw or qcow2 disk) becomes a new instance, adapted to run as a
 * system container, with a report of every change. With `dry_run`, only the report.
 */
export class ImportVmCommand extends Command<OperationView> {
  constructor(
    readonly source: ImportSource,
    /** The instance to make of it, as a create takes it. */
    readonly definition: InstanceDefinition,
    readonly start = false,
  ) {
    super();
  }
}
