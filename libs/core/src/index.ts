export {
  DomainError,
  ValidationError,
  MalformedRequestError,
  PayloadTooLargeError,
  NotFoundError,
  AlreadyExistsError,
  PreconditionFailedError,
  ForbiddenError,
  InUseError,
  BusyError,
  DatabaseUnavailableError,
} from './errors/domain-error.js';
export { BerthConfig, ConfigError, loadConfig } from './config/config.js';
export { createLogger, type Logger } from './logging/logger.js';
export { AdvisoryLocks } from './database/advisory-locks.js';
export { Database, persisting, isDatabaseUnavailable, isUniqueViolation, isForeignKeyViolation } from './database/database.js';
export { validateName } from './validation/names.js';
export { validateConfig, mergeConfig, validateDevices, validateDescription, DEVICE_TYPE_NAMES } from './validation/config-keys.js';
export { haltSignalOf, parseSignal } from './validation/raw-lxc.js';
export { BERTH_CONFIG, LOGGER, DATABASE } from './tokens.js';
export { CoreModule } from './core.module.js';
export { TestHooks } from './testing/test-hooks.js';
export { parseFilter, type Filter } from './filter/filter.js';
export { isExecutable, locateNativeExecutable } from './system/executables.js';
