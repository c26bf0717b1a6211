import type { GuestRoot } from '#runtime';

import { readdirIfExists } from './guest-files.js';

/**
 * What the migration leaves as the VM had it, as it exists in the guest: identity, accounts,
 * keys, scheduled jobs, data and the services the admin enabled.
 */
export async function keptItems(guest: GuestRoot, hostname: string | undefined, enabled: string[]): Promise<string[]> {
  const kept: string[] = [];
  const exists = async (p: string) => (await guest.lstatIfExists(p)) !== null;
  if (hostname) kept.push(`hostname: /etc/hostname (${hostname}) names the container inside, whatever the instance is called`);
  if ((await guest.lstatIfExists('/etc/machine-id'))?.size) kept.push('machine-id: /etc/machine-id (the VM\'s identity, journal and DHCP client id)');
  const accounts = [];
  for (const f of ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow', '/etc/sudoers']) if (await exists(f)) accounts.push(f);
  if (accounts.length) kept.push(`users and groups: ${accounts.join(', ')}`);
  const keys = (await readdirIfExists(guest, '/etc/ssh')).filter((e) => /^ssh_host_.*_key$/.test(e.name)).map((e) => e.name);
  if (keys.length) kept.push(`SSH host keys: ${keys.map((k) => `/etc/ssh/${k}`).join(', ')}`);
  const cron = [];
  for (const f of ['/etc/crontab', '/etc/cron.d', '/var/spool/cron/crontabs', '/var/spool/cron']) if (await exists(f)) cron.push(f);
  if (cron.length) kept.push(`crontabs: ${cron.join(', ')}`);
  const data = [];
  for (const d of ['/home', '/root', '/srv', '/opt', '/var/www', '/var/lib']) if (await exists(d)) data.push(d);
  if (data.length) kept.push(`data directories: ${data.join(', ')}`);
  if (enabled.length) kept.push(`enabled services (${enabled.length}): ${enabled.join(', ')}`);
  return kept;
}
