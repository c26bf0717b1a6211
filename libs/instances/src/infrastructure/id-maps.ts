import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { InstanceRepository } from './instance.repository.js';

/** Each unprivileged container gets its own range of this many host ids. */
export const ID_RANGE_SIZE = 65_536;

/**
 * Host ids for unprivileged containers: root's range in /etc/subuid when it has one, else
 * 1000000-1000999999 (LXD's default).
 */
export function hostIdRange(): { first: number; total: number } {
  try {
    const line = readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith('root:'));
    const [, first, total] = line?.split(':') ?? [];
    if (first && total && Number(total) >= ID_RANGE_SIZE) return { first: Number(first), total: Number(total) };
  } catch {
    // no /etc/subuid: the default range
  }
  return { first: 1_000_000, total: 1_000_000_000 };
}

/** Where an instance's root ids start on the host: its own range, allocated once and kept, or the shared first one. */
@Injectable()
export class IdMaps {
  constructor(private readonly instances: InstanceRepository) {}

  async reserve(name: string, shared: boolean): Promise<{ hostId: number; count: number }> {
    const range = hostIdRange();
    const hostId = shared ? range.first : await this.instances.allocateIdRange(name, range.first, range.total, ID_RANGE_SIZE);
    return { hostId, count: ID_RANGE_SIZE };
  }
}
