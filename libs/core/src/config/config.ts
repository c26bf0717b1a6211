import { isAbsolute } from 'node:path';
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, validateSync, ValidateIf } from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toBool = ({ value }: { value: unknown }) =>
  value === undefined ? undefined : value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/** The daemon's environment, validated once at boot. Nothing else reads process.env. */
export class BerthConfig {
  /** Root of everything this daemon owns (socket, embedded database, containers). */
  @IsString()
  @ValidateIf((_, v) => v !== undefined)
  @Transform(({ value }) => value ?? '/var/lib/berth')
  BERTH_DIR!: string;

  /** An existing Postgres server; when unset the daemon runs an embedded one under BERTH_DIR. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  @IsIn(LOG_LEVELS as unknown as string[], { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  @Transform(({ value }) => value ?? 'info')
  BERTH_LOG_LEVEL!: LogLevel;

  /** System user the embedded Postgres runs as (Postgres refuses to run as root). */
  @Matches(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'must be a valid system user name' })
  @Transform(({ value }) => value ?? 'postgres')
  BERTH_DB_USER!: string;

  /** Storage driver of the default pool when it is first created: auto (btrfs if usable, else dir), btrfs or dir. */
  @IsIn(['auto', 'btrfs', 'dir'], { message: 'must be one of auto, btrfs, dir' })
  @Transform(({ value }) => value ?? 'auto')
  BERTH_STORAGE_DRIVER!: 'auto' | 'btrfs' | 'dir';

  /** Size of a new btrfs pool's loop file in bytes (default: 20% of free space, 5 to 30 GiB). */
  @IsOptional()
  @Matches(/^\d{9,15}$/, { message: 'must be a size in bytes (at least 100000000)' })
  BERTH_STORAGE_SIZE?: string;

  /**
   * The managed bridge created on the daemon's first start and given to the default profile as
   * eth0 (LXD's lxdbr0); `none` creates no network.
   */
  @Matches(/^(none|[A-Za-z0-9][A-Za-z0-9_.-]{0,14})$/, { message: 'must be an interface name (at most 15 characters) or none' })
  @Transform(({ value }) => value ?? 'berthbr0')
  BERTH_DEFAULT_NETWORK!: string;

  /** Enables /internal/testing endpoints used by the test suite to drive real operations. */
  @IsBoolean({ message: 'must be true or false' })
  @Transform((p) => toBool(p) ?? false)
  BERTH_TEST_HOOKS!: boolean;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BerthConfig {
  const pick = (k: string) => (env[k] === '' ? undefined : env[k]);
  const raw = {
    BERTH_DIR: pick('BERTH_DIR'),
    DATABASE_URL: pick('DATABASE_URL'),
    BERTH_LOG_LEVEL: pick('BERTH_LOG_LEVEL'),
    BERTH_DB_USER: pick('BERTH_DB_USER'),
    BERTH_TEST_HOOKS: pick('BERTH_TEST_HOOKS'),
    BERTH_STORAGE_DRIVER: pick('BERTH_STORAGE_DRIVER'),
    BERTH_STORAGE_SIZE: pick('BERTH_STORAGE_SIZE'),
    BERTH_DEFAULT_NETWORK: pick('BERTH_DEFAULT_NETWORK'),
  };
  const config = plainToInstance(BerthConfig, raw);
  const errors = validateSync(config);
  if (!isAbsolute(config.BERTH_DIR ?? '')) {
    throw new ConfigError(`Invalid environment variable BERTH_DIR=${JSON.stringify(config.BERTH_DIR)}: must be an absolute path`);
  }
  if (errors.length > 0) {
    const e = errors[0];
    const reason = Object.values(e.constraints ?? {})[0] ?? 'invalid';
    throw new ConfigError(`Invalid environment variable ${e.property}=${JSON.stringify(e.value)}: ${reason.replace(`${e.property} `, '')}`);
  }
  return config;
}
