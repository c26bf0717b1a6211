import { GuestRoot, NativeCallError, type GuestDirent } from '#runtime';

/** 1 MiB: far more than any configuration file a fix-up reads. */
const MAX_CONFIG = 1024 * 1024;

/**
 * A configuration file's text, or undefined when there is none to read: missing, or not a
 * regular file (a hostile tree may put a directory, a FIFO or a symlink loop there).
 */
export async function readTextIfRegular(guest: GuestRoot, file: string): Promise<string | undefined> {
  try {
    return await guest.readText(file, { maxBytes: MAX_CONFIG });
  } catch (error) {
    if (GuestRoot.isMissing(error)) return undefined;
    if (error instanceof NativeCallError && ['EINVAL', 'EISDIR', 'ELOOP'].includes(error.errnoCode)) return undefined;
    throw error;
  }
}

/** A directory's entries, none when it does not exist. */
export async function readdirIfExists(guest: GuestRoot, dir: string): Promise<GuestDirent[]> {
  try {
    return await guest.readdir(dir);
  } catch (error) {
    if (GuestRoot.isMissing(error) || (error instanceof NativeCallError && error.errnoCode === 'ELOOP')) return [];
    throw error;
  }
}
