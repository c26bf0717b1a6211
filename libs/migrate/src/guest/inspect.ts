import os from 'node:os';
import path from 'node:path';

import { GuestRoot } from '#runtime';

import { ELF_HEADER_BYTES, elfArchitecture } from './elf.js';
import { readTextIfRegular } from './guest-files.js';
import { ArchitectureMismatchError, NotLinuxError, UnsupportedInitError } from './guest.errors.js';
import { discoverNetwork } from './network.js';
import { parseOsRelease } from './os-release.js';
import type { GuestFacts } from './report.js';

/**
 * Reads what a migration needs to know from a VM's root filesystem (every path resolved inside
 * it), and refuses what Berth cannot run: a tree without os-release (NotLinuxError), an init
 * that is not systemd (UnsupportedInitError), binaries of another architecture than the host's
 * (ArchitectureMismatchError).
 */
export async function inspectGuest(root: string): Promise<GuestFacts> {
  const guest = new GuestRoot(root);
  const osRelease = (await readTextIfRegular(guest, '/etc/os-release')) ?? (await readTextIfRegular(guest, '/usr/lib/os-release'));
  if (osRelease === undefined) throw new NotLinuxError('it has neither /etc/os-release nor /usr/lib/os-release');

  if (!(await guest.lstatIfExists('/sbin/init'))) throw new UnsupportedInitError('/sbin/init', 'it does not exist');
  let initPath: string;
  try {
    initPath = await guest.realpath('/sbin/init');
  } catch (error) {
    if (GuestRoot.isMissing(error)) throw new UnsupportedInitError('/sbin/init', 'it is a dangling symlink');
    throw error;
  }
  if (path.posix.basename(initPath) !== 'systemd') {
    throw new UnsupportedInitError(initPath, 'Berth boots systemd as PID 1; /sbin/init must lead to systemd');
  }
  let header: Buffer;
  try {
    header = await guest.readFile(initPath, { maxBytes: ELF_HEADER_BYTES, truncate: true });
  } catch (error) {
    if (GuestRoot.isMissing(error)) throw new UnsupportedInitError(initPath, 'it does not exist');
    throw new UnsupportedInitError(initPath, 'it is not a regular file');
  }
  const architecture = elfArchitecture(header);
  if (!architecture) throw new UnsupportedInitError(initPath, 'it is not an ELF executable of a known architecture');
  const host = os.machine();
  if (architecture !== host) throw new ArchitectureMismatchError(architecture, host);

  const hostname = (await readTextIfRegular(guest, '/etc/hostname'))
    ?.split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  const network = await discoverNetwork(guest);
  const facts: GuestFacts = {
    os: parseOsRelease(osRelease),
    architecture,
    init: 'systemd',
    initPath,
    networkConfig: network.kind,
    interfaces: network.interfaces,
  };
  if (hostname) facts.hostname = hostname;
  return facts;
}
