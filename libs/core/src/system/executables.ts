import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Whether `path` exists and may be executed by this process. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where one of native/'s executables (berth-unpack, berth-proxy) is: `override` if given, else
 * the node-gyp build (native/build/Release/<name>) or a manual one (native/build/<name>) in the
 * first directory above `from` (a module's import.meta.url) that has one.
 */
export function locateNativeExecutable(name: string, from: string, override?: string): string {
  if (override !== undefined && override !== '') return override;
  const candidates = [`native/build/Release/${name}`, `native/build/${name}`];
  for (let dir = dirname(fileURLToPath(from)); ; dir = dirname(dir)) {
    for (const candidate of candidates) {
      const path = join(dir, candidate);
      if (isExecutable(path)) return path;
    }
    if (dirname(dir) === dir) throw new Error(`${name} not found (looked for ${candidates.join(' and ')} above ${fileURLToPath(from)})`);
  }
}
