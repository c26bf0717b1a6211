export { inspectGuest } from './inspect.js';
export { fixUpGuest, type FixUpOptions } from './fix-up.js';
export { renderReport, type ChangeArea, type GuestChange, type GuestFacts, type MigrationReport, type NetworkOutcome } from './report.js';
export type { GuestInterface, NetworkConfigKind } from './network-config.js';
export { ArchitectureMismatchError, NotLinuxError, UnsupportedInitError } from './guest.errors.js';
