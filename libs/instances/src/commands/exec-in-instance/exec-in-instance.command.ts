import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

/** What to run, as LXD's InstanceExecPost asks it (validated at the edge). */
export interface ExecRequest {
  readonly command: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** Absolute, inside the instance. */
  readonly cwd: string;
  readonly uid: number;
  readonly gid: number;
  /** `wait-for-websocket`: the command starts once its sockets are connected. */
  readonly streaming: boolean;
  /** With a terminal of `width`×`height` (streaming only). */
  readonly interactive: boolean;
  readonly width: number;
  readonly height: number;
  /** `record-output`: stdout and stderr kept as log files (not streaming). */
  readonly recordOutput: boolean;
}

/** POST /1.0/instances/{name}/exec. */
export class ExecInInstanceCommand extends Command<OperationView> {
  constructor(
    readonly name: string,
    readonly request: ExecRequest,
  ) {
    super();
  }
}
