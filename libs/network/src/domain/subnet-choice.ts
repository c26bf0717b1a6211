import { createHash } from 'node:crypto';
import { subnetsOverlap, type InterfaceAddress, type Subnet } from './ipv4.js';

/** The private blocks /24s are drawn from, in order of preference (RFC 1918). */
const POOLS: ReadonlyArray<{ base: number; slots: number }> = [
  { base: 10 << 24, slots: 1 << 16 }, // 10.0.0.0/8
  { base: ((172 << 24) | (16 << 16)) >>> 0, slots: 1 << 12 }, // 172.16.0.0/12
  { base: ((192 << 24) | (168 << 16)) >>> 0, slots: 1 << 8 }, // 192.168.0.0/16
];

const ATTEMPTS_PER_POOL = 512;

/**
 * Candidate /24s for a seed: a pseudo-random but repeatable walk through each private block, so
 * that a given seed (the network's name) proposes the same subnets on every host and every run.
 */
export function* subnetCandidates(seed: string): Generator<Subnet> {
  for (const [index, pool] of POOLS.entries()) {
    for (let attempt = 0; attempt < ATTEMPTS_PER_POOL; attempt++) {
      const hash = createHash('sha256').update(`${seed}\u0000${index}\u0000${attempt}`).digest();
      const slot = hash.readUInt32BE(0) % pool.slots;
      yield { network: (pool.base + slot * 256) >>> 0, prefix: 24 };
    }
  }
}

/**
 * Picks the first candidate /24 for `seed` that overlaps none of `inUse` (the host's routes and
 * addresses, and the subnets of networks that exist but are not up). The gateway is the subnet's
 * first host address, as with LXD. Returns undefined when every candidate clashes.
 */
export function chooseSubnet(seed: string, inUse: readonly Subnet[]): InterfaceAddress | undefined {
  for (const candidate of subnetCandidates(seed)) {
    if (!inUse.some((used) => subnetsOverlap(candidate, used))) return { address: candidate.network + 1, subnet: candidate };
  }
  return undefined;
}
