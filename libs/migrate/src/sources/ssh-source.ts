import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ValidationError } from '#core';
import { unpackRootfsArchive } from '#images';
import { NotARootFilesystemError, SourceReadFailedError } from './source.errors.js';
import { produceTar, type ProducerExit } from './tar-producer.js';
import type { ExtractGuestProgress, ExtractedGuest } from './extract-guest.js';

/** A running machine to copy over SSH: `user@host`, its port, the tree to copy (`/`), and the key to log in with. */
export interface SshSource {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** A private key file on the daemon's host; default: the daemon user's own keys. */
  readonly identity?: string;
}

/*
 * Filesystem types whose contents are the running kernel's or the session's, never the machine's
 * files: their mount points are copied as empty directories. Network filesystems are someone
 * else's data and are left out the same way.
 */
const PSEUDO_FILESYSTEMS = [
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'ramfs', 'cgroup', 'cgroup2', 'securityfs', 'pstore', 'bpf', 'debugfs', 'tracefs',
  'mqueue', 'hugetlbfs', 'fusectl', 'configfs', 'autofs', 'binfmt_misc', 'efivarfs', 'rpc_pipefs', 'nsfs', 'nfs', 'nfs4', 'cifs', 'smb3', 'fuse\\..*',
];

const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/i;

/** `user@host` as given in `source.ssh`; the host is a DNS name, an IPv4 address or a bracketed IPv6 one. */
export function parseSshTarget(field: string, text: string): { user: string; host: string } {
  const at = text.lastIndexOf('@');
  const user = at < 0 ? '' : text.slice(0, at);
  const host = text.slice(at + 1);
  if (!USER.test(user)) throw new ValidationError(field, `"${text}" must be user@host (a user name is letters, digits, "_", "." and "-")`);
  if (!HOST.test(host)) throw new ValidationError(field, `"${host}" is not a host name or address`);
  return { user, host: host.replace(/^\[|\]$/g, '') };
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * The command run on the machine: GNU tar of `path` on every local filesystem below it (a VM's
 * separate /home or /var included), with the contents of pseudo, temporary and network
 * filesystems left out, numeric owners, xattrs (file capabilities) and ACLs. tar's status 1
 * (a file changed while it was read, as on any live system) is a warning, not a failure.
 * Nothing is written on the machine.
 */
export function remoteTarScript(path: string): string {
  const types = PSEUDO_FILESYSTEMS.join('|');
  return [
    `root=${quote(path)}`,
    'cd "$root" || exit 2',
    'set --',
    `for m in $(LC_ALL=C awk -v root="$root" '$3 ~ /^(${types})$/ { m = $2; r = (root == "/") ? "" : root; if (m == root || (r != "" && index(m, r "/") != 1)) next; print substr(m, length(r) + 2) }' /proc/self/mounts); do set -- "$@" "--exclude=./$m/*"; done`,
    `LC_ALL=C tar --create --file=- --numeric-owner --xattrs '--xattrs-include=*' --acls --format=posix --anchored "$@" -C "$root" .`,
    's=$?; [ "$s" -le 1 ] || exit "$s"',
  ].join('\n');
}

/** ssh's arguments: batch mode (no prompt ever), host keys trusted on first use and kept in `knownHosts`. */
export function sshArgs(source: SshSource, knownHosts: string): string[] {
  return [
    '-T',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'ConnectTimeout=15',
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=4',
    '-o', 'LogLevel=ERROR',
    '-p', String(source.port),
    ...(source.identity ? ['-o', 'IdentitiesOnly=yes', '-i', source.identity] : []),
    '-l', source.user,
    '--', source.host,
    remoteTarScript(source.path),
  ];
}

export interface ExtractOverSshRequest {
  readonly ssh: SshSource;
  readonly target: string;
  /** Where the host keys of machines copied from are remembered. */
  readonly knownHosts: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ExtractGuestProgress) => void;
  readonly helperPath?: string;
}

/**
 * Copies a running machine's tree over SSH into the new directory `target` through the same
 * hardened pipeline as every other source (the remote side is as untrusted as a stranger's
 * tarball). On failure the target is gone.
 */
export async function extractGuestOverSsh(request: ExtractOverSshRequest): Promise<ExtractedGuest> {
  const { ssh } = request;
  const label = `${ssh.user}@${ssh.host}:${ssh.path}`;
  await mkdir(dirname(request.knownHosts), { recursive: true, mode: 0o700 });
  const producer = produceTar(['/usr/bin/ssh', ...sshArgs(ssh, request.knownHosts)], (exit: ProducerExit) => {
    const detail = exit.lines.slice(0, 3).join(' / ') || `ssh stopped (${exit.signal ?? `exit status ${exit.code}`})`;
    return new SourceReadFailedError(label, exit.code === 255 ? `cannot log in over SSH: ${detail}` : detail);
  });
  const unpacked = await unpackRootfsArchive({
    stream: producer.stream,
    label,
    totalBytes: 0,
    target: request.target,
    helperPath: request.helperPath,
    signal: request.signal,
    onProgress: (progress) => request.onProgress?.({ phase: 'copy', ...progress }),
    verifyTree: (tree) => {
      if (tree.kindOf('etc/os-release') === 'file' || tree.kindOf('usr/lib/os-release') === 'file') return;
      throw new NotARootFilesystemError(label, 'neither etc/os-release nor usr/lib/os-release is a regular file in it');
    },
  });
  return {
    kind: 'ssh',
    entries: unpacked.entries - unpacked.dropped,
    bytesWritten: unpacked.bytesWritten,
    warnings: [...unpacked.warnings, ...producer.warnings],
    reader: `GNU tar on ${ssh.host} over SSH (port ${ssh.port})`,
  };
}
