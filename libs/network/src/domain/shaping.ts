import { createHash } from 'node:crypto';

/**
 * The intermediate functional block (ifb) device that carries a nic's outgoing traffic so it can
 * be shaped: derived from the host end's name so that removal finds it without any record.
 */
export function ifbNameFor(hostEnd: string): string {
  return `bti${createHash('sha256').update(hostEnd).digest('hex').slice(0, 12)}`;
}

/**
 * `tc` argument lists for an HTB rate on `device`'s egress: one class that every packet falls into
 * (`default 10`). The class is `replace`d, so a new rate on a live nic changes it in place; the
 * qdisc is added only when absent (HTB refuses a `replace` of itself).
 */
export function htbRateCommands(device: string, bitsPerSecond: number, qdiscPresent: boolean): string[][] {
  return [
    ...(qdiscPresent ? [] : [['qdisc', 'add', 'dev', device, 'root', 'handle', '1:', 'htb', 'default', '10']]),
    ['class', 'replace', 'dev', device, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', `${bitsPerSecond}bit`],
  ];
}

/**
 * `tc` argument lists that send everything arriving on `device` through `ifb`'s egress, where it can
 * be queued and shaped like any outgoing traffic (ingress itself can only drop). The fixed filter
 * handle makes `replace` idempotent; the ingress qdisc is added only when absent.
 */
export function redirectCommands(device: string, ifb: string, qdiscPresent: boolean): string[][] {
  return [
    ...(qdiscPresent ? [] : [['qdisc', 'add', 'dev', device, 'handle', 'ffff:', 'ingress']]),
    ['filter', 'replace', 'dev', device, 'parent', 'ffff:', 'protocol', 'all', 'prio', '1', 'handle', '800::800',
      'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb],
  ];
}

/** Reads the rate of class 1:10 from `tc class show` text (iproute2 prints htb classes as text even with -j). */
export function parseHtbRate(text: string): number | undefined {
  const match = /class htb 1:10 .*?\brate (\d+(?:\.\d+)?)([KMGT]?)bit/.exec(text);
  if (!match) return undefined;
  const scale: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(match[1]) * scale[match[2]!]!);
}
