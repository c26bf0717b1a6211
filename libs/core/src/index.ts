export * from './errors/domain-error.js';
export * from './config/config.js';
export * from './logging/logger.js';
export * from './database/database.js';
export { EmbeddedDatabase, EmbeddedDatabaseError } from './database/embedded-postgres.js';
export * from './validation/names.js';
export * from './validation/config-keys.js';
export * from './tokens.js';
export * from './core.module.js';
