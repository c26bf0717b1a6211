/** One fstab entry taken out of the guest's boot, and why. */
export interface FstabEdit {
  /** The entry as it was. */
  line: string;
  spec: string;
  mountPoint: string;
  reason: string;
}

export interface FstabRewrite {
  text: string;
  edits: FstabEdit[];
  warnings: string[];
}

const BLOCK_SPEC = /^(\/dev\/|UUID=|LABEL=|PARTUUID=|PARTLABEL=|ID=)/;
const NETWORK_TYPES = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', 'fuse.sshfs', 'sshfs', 'davfs']);

/** The comment that precedes every entry Berth commented out. */
export const FSTAB_NOTE = '# berth:';

/**
 * Comments out what a container cannot mount: block devices (the VM's disks, its root among
 * them: the container's root is a Berth volume), swap, /boot and /boot/efi, and network
 * filesystems (an unprivileged container cannot mount them). Bind mounts, tmpfs and the
 * proc-like filesystems stay. Each commented entry is preceded by a `# berth: <reason>` line,
 * `(<origin>)` appended when given. Already commented lines are left as they are, so a second
 * pass changes nothing.
 */
export function rewriteFstab(text: string, origin?: string): FstabRewrite {
  const edits: FstabEdit[] = [];
  const warnings: string[] = [];
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      out.push(line);
      continue;
    }
    const [spec = '', mountPoint = '', type = '', options = ''] = trimmed.split(/\s+/);
    const reason = unmountable(spec, mountPoint, type, options.split(','));
    if (!reason) {
      out.push(line);
      continue;
    }
    edits.push({ line: trimmed, spec, mountPoint, reason });
    out.push(`${FSTAB_NOTE} ${reason}${origin ? ` (${origin})` : ''}`, `# ${line}`);
    if (mountPoint.startsWith('/') && mountPoint !== '/' && !isBoot(mountPoint) && BLOCK_SPEC.test(spec)) {
      warnings.push(
        `${mountPoint} was mounted from ${spec} in the VM: its files are in the container only if the source included that disk; otherwise attach them as a disk device`,
      );
    }
  }
  return { text: out.join('\n'), edits, warnings };
}

function isBoot(mountPoint: string): boolean {
  return mountPoint === '/boot' || mountPoint.startsWith('/boot/');
}

function unmountable(spec: string, mountPoint: string, type: string, options: string[]): string | undefined {
  if (type === 'swap' || (options.includes('sw') && mountPoint === 'none')) {
    return 'swap: a container has no swap space of its own (the host manages memory)';
  }
  if (isBoot(mountPoint)) return `${mountPoint}: a container boots no kernel and has no boot loader`;
  if (options.includes('bind') || options.includes('rbind')) return undefined;
  if (BLOCK_SPEC.test(spec)) {
    return mountPoint === '/'
      ? `the root block device ${spec}: the container's root is its Berth volume`
      : `block device ${spec}: a container has none of the VM's disks`;
  }
  if (NETWORK_TYPES.has(type)) return `${type} on ${mountPoint}: an unprivileged container cannot mount network filesystems`;
  return undefined;
}
