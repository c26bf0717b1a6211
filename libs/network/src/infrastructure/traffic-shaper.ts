import type { NicLimits } from '../domain/bit-rate.js';
import { htbRateCommands, ifbNameFor, parseHtbRate, redirectCommands } from '../domain/shaping.js';
import { run, runJson } from './command.js';
import { deleteLinkIfExists, findLink, ip } from './iproute.js';

interface TcQdisc {
  kind: string;
  handle: string;
  root?: boolean;
}

/**
 * Sets a nic's limits on the host end `device` of its veth pair, live: limits present are
 * installed or changed in place, limits absent are removed; `{}` removes all shaping.
 *
 * Direction: what leaves the host end enters the container, so the container's `ingress` is an
 * HTB rate on the host end's egress. What the container sends arrives on the host end's ingress,
 * where packets can only be dropped, so it is redirected to an ifb device and shaped on that
 * device's egress (queued, not policed: TCP then settles at the rate instead of sawing at it).
 */
export async function applyNicLimits(device: string, limits: NicLimits): Promise<void> {
  const ifb = ifbNameFor(device);
  const present = await qdiscs(device);
  const hasHtb = present.some((q) => q.root && q.kind === 'htb' && q.handle === '1:');
  const hasIngress = present.some((q) => q.kind === 'ingress');
  if (limits.ingress !== undefined) {
    // Another root qdisc someone configured (the kernel's default has handle 0: and cannot be deleted).
    if (!hasHtb && present.some((q) => q.root && q.handle !== '0:')) await run('tc', ['qdisc', 'delete', 'dev', device, 'root']);
    for (const args of htbRateCommands(device, limits.ingress, hasHtb)) await run('tc', args);
  } else if (hasHtb) {
    await run('tc', ['qdisc', 'delete', 'dev', device, 'root']);
  }
  if (limits.egress !== undefined) {
    if (!(await findLink(ifb))) await ip(['link', 'add', 'name', ifb, 'type', 'ifb']);
    await ip(['link', 'set', 'dev', ifb, 'up']);
    const ifbHasHtb = (await qdiscs(ifb)).some((q) => q.root && q.kind === 'htb' && q.handle === '1:');
    for (const args of htbRateCommands(ifb, limits.egress, ifbHasHtb)) await run('tc', args);
    for (const args of redirectCommands(device, ifb, hasIngress)) await run('tc', args);
  } else {
    if (hasIngress) await run('tc', ['qdisc', 'delete', 'dev', device, 'ingress']);
    await deleteLinkIfExists(ifb);
  }
}

/** Removes the ifb device of a nic whose host end is already gone (its qdiscs went with it). */
export async function removeNicShaping(device: string): Promise<void> {
  await deleteLinkIfExists(ifbNameFor(device));
}

/** The rates in force on a nic's host end, read back from the kernel. */
export async function readNicLimits(device: string): Promise<NicLimits> {
  const ingress = parseHtbRate((await run('tc', ['class', 'show', 'dev', device])).stdout);
  const ifb = ifbNameFor(device);
  const egress = (await findLink(ifb)) ? parseHtbRate((await run('tc', ['class', 'show', 'dev', ifb])).stdout) : undefined;
  return { ...(ingress !== undefined ? { ingress } : {}), ...(egress !== undefined ? { egress } : {}) };
}

function qdiscs(device: string): Promise<TcQdisc[]> {
  return runJson<TcQdisc[]>('tc', ['-j', 'qdisc', 'show', 'dev', device]);
}
