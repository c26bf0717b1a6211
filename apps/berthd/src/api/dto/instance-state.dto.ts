import { IsBoolean, IsIn, IsInt, IsOptional, Min } from 'class-validator';
import type { StateAction } from '#instances';

const ACTIONS: StateAction[] = ['start', 'stop', 'restart', 'freeze', 'unfreeze'];

/** PUT /1.0/instances/{name}/state: LXD's InstanceStatePut. */
export class InstanceStatePutDto {
  @IsIn(ACTIONS, { message: `must be one of ${ACTIONS.join(', ')}` })
  action: StateAction;

  /** Seconds before a stop turns into a kill; -1 (LXD's "no timeout given") means the default, 30. */
  @IsOptional()
  @IsInt({ message: 'must be a whole number of seconds, or -1' })
  @Min(-1, { message: 'must be a whole number of seconds, or -1' })
  timeout?: number;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  force?: boolean;

  /** LXD's stateful stop/start (CRIU): accepted and ignored, as Berth keeps no process state. */
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  stateful?: boolean;
}
