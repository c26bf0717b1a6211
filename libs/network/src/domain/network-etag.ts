import { createHash } from 'node:crypto';
import { PreconditionFailedError } from '#core';

const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Whether two configs hold the same keys and values, in any order. */
export function sameConfig(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

/** Changes whenever anything a client can edit changes (LXD hashes the same fields); sent as ETag, checked against If-Match. */
export function networkEtag(network: { name: string; description: string; config: Record<string, string> }): string {
  return createHash('sha256')
    .update(JSON.stringify([network.name, true, 'bridge', network.description, sorted(network.config)]))
    .digest('hex');
}

/** Refuses (412) a change whose If-Match names none of the network's current ETag (nor `*`). */
export function assertEtag(network: { name: string; description: string; config: Record<string, string> }, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
  if (!tags.includes('*') && !tags.includes(networkEtag(network))) {
    throw new PreconditionFailedError(`Network "${network.name}" was changed since it was read (If-Match does not match the current ETag)`);
  }
}
