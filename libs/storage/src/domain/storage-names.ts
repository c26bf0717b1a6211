import { InvalidStorageNameError } from './storage.errors.js';

/**
 * Pool and volume names become single path components under BERTH_DIR, so the storage layer
 * accepts only names that cannot escape their directory or collide with its own staging names
 * (which use a dot). The instances and images contexts apply their stricter rules before this.
 */
const COMPONENT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function assertStorageName(kind: 'pool' | 'image' | 'instance', name: string): string {
  if (typeof name !== 'string' || !COMPONENT.test(name)) {
    throw new InvalidStorageNameError(
      `Invalid ${kind} name ${JSON.stringify(name)}: use 1-128 letters, digits, "-" or "_", starting with a letter or digit`,
      undefined,
      { kind, name },
    );
  }
  return name;
}
