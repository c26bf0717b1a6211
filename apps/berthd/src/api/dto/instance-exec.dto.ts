import { ArrayNotEmpty, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import type { ExecRequest } from '#instances';
import { IsStringMap } from './validators.js';

const NO_NUL = /^[^\u0000]*$/;
const LIST = 'must be a non-empty list of strings';
const DIMENSION = 'must be a whole number from 0 to 10000';
const ID = 'must be a numeric id';

/** POST /1.0/instances/{name}/exec: LXD's InstanceExecPost. */
export class InstanceExecPostDto {
  @IsArray({ message: LIST })
  @ArrayNotEmpty({ message: LIST })
  @IsString({ each: true, message: LIST })
  @Matches(NO_NUL, { each: true, message: LIST })
  command: string[];

  @IsOptional()
  @IsStringMap()
  environment?: Record<string, string> | null;

  /** Absolute, inside the instance; absent or empty: /root. */
  @IsOptional()
  @ValidateIf((o: InstanceExecPostDto) => o.cwd !== '')
  @IsString({ message: 'must be an absolute path inside the instance' })
  @Matches(/^\//, { message: 'must be an absolute path inside the instance' })
  cwd?: string;

  @IsOptional()
  @IsInt({ message: ID })
  @Min(0, { message: ID })
  user?: number;

  @IsOptional()
  @IsInt({ message: ID })
  @Min(0, { message: ID })
  group?: number;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  'wait-for-websocket'?: boolean;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  interactive?: boolean;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  'record-output'?: boolean;

  /** Terminal columns; absent or 0: 80. */
  @IsOptional()
  @IsInt({ message: DIMENSION })
  @Min(0, { message: DIMENSION })
  @Max(10_000, { message: DIMENSION })
  width?: number | null;

  /** Terminal rows; absent or 0: 24. */
  @IsOptional()
  @IsInt({ message: DIMENSION })
  @Min(0, { message: DIMENSION })
  @Max(10_000, { message: DIMENSION })
  height?: number | null;

  toRequest(): ExecRequest {
    const streaming = this['wait-for-websocket'] === true;
    return {
      command: this.command,
      environment: this.environment ?? {},
      cwd: this.cwd || '/root',
      uid: this.user ?? 0,
      gid: this.group ?? 0,
      streaming,
      interactive: streaming && this.interactive === true,
      width: this.width || 80,
      height: this.height || 24,
      recordOutput: this['record-output'] === true,
    };
  }
}

/** POST /1.0/instances/{name}/console: LXD's InstanceConsolePost. */
export class InstanceConsolePostDto {
  @IsOptional()
  @IsIn(['console'], { message: 'must be "console" (a container has no other console)' })
  type?: string;

  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  @Min(0, { message: 'must be a whole number' })
  width?: number;

  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  @Min(0, { message: 'must be a whole number' })
  height?: number;
}
