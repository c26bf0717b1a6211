export { ServerModule } from './server.module.js';
export { GetServerConfigQuery } from './queries/get-server-config/get-server-config.query.js';
export { UpdateServerConfigCommand } from './commands/update-server-config/update-server-config.command.js';
export { DEFAULT_MEMORY_OVERCOMMIT, DEFAULT_PROCESSES_SHARE, overcommitRatio, processesShare } from './domain/server-config.js';
