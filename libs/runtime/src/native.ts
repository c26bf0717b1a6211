import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import type { BerthNative } from './berth-native.js';

/** native/build/Release, from dist/libs/runtime/src/ (four levels below the repository). */
export const defaultNativeDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../native/build/Release',
);

export function monitorBinary(nativeDir: string): string {
  return path.join(nativeDir, 'berth-monitor');
}

const loaded = new Map<string, BerthNative>();

export function loadNative(nativeDir: string): BerthNative {
  let addon = loaded.get(nativeDir);
  if (!addon) {
    addon = createRequire(import.meta.url)(path.join(nativeDir, 'berth_native.node')) as BerthNative;
    loaded.set(nativeDir, addon);
  }
  return addon;
}
