// Builders for the migrate suites: a tiny VM root filesystem and the sources made of it (tarballs,
// GPT/MBR raw disks built without any host mount, qcow2), and what a test looks at afterwards (a
// full listing of a tree, what of a sandbox is left mounted, attached or running).
// Needs, as root: tar, gzip, zstd, sfdisk (fdisk), mkfs.ext4 (e2fsprogs), setcap (libcap2-bin),
// qemu-img (qemu-utils), python3, losetup.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const exec = promisify(execFile);

export const GPT_LINUX_ROOT_X86_64 = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';
export const GPT_LINUX_DATA = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
export const GPT_LINUX_SWAP = '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F';
export const GPT_EFI_SYSTEM = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';

export const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
/** A fixed time for every entry of the tiny rootfs, so that listings compare exactly. */
const MTIME = new Date('2024-05-01T12:00:00Z');

/** A temporary directory for one test; `cleanup` removes it (call it from `after`). */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-migrate-'));
  /** Where a test's target rootfs goes; it does not exist yet. */
  readonly target = join(this.dir, 'target');
  /** A directory outside the target that a hostile source tries to write into. */
  readonly sentinel = join(this.dir, 'sentinel');

  constructor() {
    mkdirSync(this.sentinel);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A tiny Debian-like root filesystem at `dir` (created): etc/os-release as a symlink to
 * ../usr/lib/os-release (as on Debian), etc/hostname, etc/passwd and etc/shadow, etc/evil ->
 * /etc/shadow (an absolute symlink that must never be followed on the host), usr/bin/ping with
 * security.capability cap_net_raw+ep, usr/bin/ping4 a hardlink of it, home/user owned by
 * 1001:1001 (and a file in it), sbin/init -> ../lib/systemd/systemd, a setuid file, a FIFO
 * (dropped by unprivileged extraction) and dev/console (a device node, dropped likewise).
 * Everything has the same mtime.
 */
export async function buildTinyRootfs(dir: string, options: { osRelease?: boolean } = {}): Promise<string> {
  const mk = (path: string, mode = 0o755) => {
    mkdirSync(join(dir, path), { recursive: true });
    chmodSync(join(dir, path), mode);
  };
  const file = (path: string, content: string, mode = 0o644) => {
    writeFileSync(join(dir, path), content);
    chmodSync(join(dir, path), mode);
  };
  mk('.');
  for (const path of ['etc', 'usr', 'usr/lib', 'usr/bin', 'usr/lib/systemd', 'home', 'dev', 'run', 'var', 'var/log']) mk(path);
  mk('root', 0o700);
  mk('tmp', 0o1777);
  symlinkSync('usr/lib', join(dir, 'lib'));
  symlinkSync('usr/bin', join(dir, 'bin'));
  symlinkSync('usr/bin', join(dir, 'sbin'));
  if (options.osRelease !== false) {
    file('usr/lib/os-release', OS_RELEASE);
    symlinkSync('../usr/lib/os-release', join(dir, 'etc/os-release'));
  }
  file('etc/hostname', 'tiny-vm\n');
  file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nuser:x:1001:1001::/home/user:/bin/sh\n');
  file('etc/shadow', 'root:*:19000:0:99999:7:::\nuser:*:19000:0:99999:7:::\n', 0o640);
  chownSync(join(dir, 'etc/shadow'), 0, 42);
  symlinkSync('/etc/shadow', join(dir, 'etc/evil'));
  file('usr/lib/systemd/systemd', '#!/bin/sh\necho "not really systemd"\n', 0o755);
  symlinkSync('../lib/systemd/systemd', join(dir, 'usr/bin/init'));
  file('usr/bin/ping', '\x7fELF pretend ping\n', 0o755);
  // After chown (which would clear it): the capability.
  await exec('setcap', ['cap_net_raw+ep', join(dir, 'usr/bin/ping')]);
  linkSync(join(dir, 'usr/bin/ping'), join(dir, 'usr/bin/ping4'));
  file('usr/bin/su', 'pretend su\n', 0o4755);
  mk('home/user', 0o750);
  chownSync(join(dir, 'home/user'), 1001, 1001);
  file('home/user/.profile', 'export EDITOR=vi\n', 0o600);
  chownSync(join(dir, 'home/user/.profile'), 1001, 1001);
  file('var/log/big.log', 'x'.repeat(300_000));
  await exec('mkfifo', ['-m', '0600', join(dir, 'run/initctl')]);
  await exec('mknod', ['-m', '0600', join(dir, 'dev/console'), 'c', '5', '1']);
  await exec('touch', ['-h', '-d', MTIME.toISOString(), ...walk(dir)]);
  utimesSync(dir, MTIME, MTIME);
  return dir;
}

/** Every path under `dir`, deepest first (so that touching a file does not change its parent's time afterwards). */
function walk(dir: string): string[] {
  const paths: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) paths.push(...walk(path));
    paths.push(path);
  }
  return paths;
}

/** A tarball of the tree at `root`, as `tar --numeric-owner --xattrs --acls -cpf - .` makes it on a VM. */
export async function buildTarball(root: string, out: string, compression: 'gzip' | 'zstd' | 'none'): Promise<string> {
  const tar = `tar --numeric-owner --xattrs --acls --one-file-system -C "$1" -cpf - .`;
  const compress = compression === 'gzip' ? ' | gzip -c' : compression === 'zstd' ? ' | zstd -q -c' : '';
  await exec('bash', ['-c', `set -o pipefail; ${tar}${compress} > "$2"`, 'build-tarball', root, out]);
  return out;
}

export interface DiskPartitionSpec {
  /** sfdisk type: a GPT GUID, or an MBR type like "83", "82", "5" (extended). */
  readonly type: string;
  /** Sectors of 512 bytes; the last partition may omit it (rest of the disk). */
  readonly sectors?: number;
  /** A tree to put in an ext4 filesystem on this partition (mkfs.ext4 -d, no mount). */
  readonly tree?: string;
  /** MBR logical partitions inside this extended partition. */
  readonly logical?: readonly DiskPartitionSpec[];
}

/**
 * A raw disk image of `sizeMiB` with an MBR or GPT made by sfdisk, and ext4 filesystems written
 * straight into partitions with `mkfs.ext4 -d <tree> -E offset=<bytes>`: nothing is ever mounted.
 * Returns the partitions as sfdisk reports them (start and size in sectors).
 */
export async function buildRawDisk(out: string, label: 'gpt' | 'dos', sizeMiB: number, partitions: readonly DiskPartitionSpec[]): Promise<{ node: string; start: number; size: number; type: string }[]> {
  await exec('truncate', ['-s', `${sizeMiB}M`, out]);
  const lines = [`label: ${label}`];
  const flat: DiskPartitionSpec[] = [];
  for (const p of partitions) {
    lines.push(`${p.sectors === undefined ? '' : `size=${p.sectors}, `}type=${p.type}`);
    flat.push(p);
    for (const l of p.logical ?? []) {
      lines.push(`${l.sectors === undefined ? '' : `size=${l.sectors}, `}type=${l.type}`);
      flat.push(l);
    }
  }
  await execWithInput('sfdisk', ['--quiet', '--wipe', 'always', out], `${lines.join('\n')}\n`);
  const { stdout } = await exec('sfdisk', ['--json', out]);
  const table = (JSON.parse(stdout) as { partitiontable: { partitions: { node: string; start: number; size: number; type: string }[] } }).partitiontable.partitions;
  const specs = flat.filter((p) => p.logical === undefined);
  const created = table.filter((p) => !['5', 'f', '85'].includes(p.type));
  assert.equal(created.length, specs.length, 'sfdisk made the partitions asked for');
  for (const [i, spec] of specs.entries()) {
    if (spec.tree === undefined) continue;
    const { start, size } = created[i];
    await exec('mkfs.ext4', ['-q', '-F', '-d', spec.tree, '-E', `offset=${start * 512}`, out, `${Math.floor((size * 512) / 1024)}k`]);
  }
  return table;
}

/** Writes a swap signature into a partition of a raw disk (mkswap on an offset, no loop device). */
export async function writeSwap(disk: string, startSector: number, sectors: number): Promise<void> {
  const swap = `${disk}.swap`;
  await exec('truncate', ['-s', String(sectors * 512), swap]);
  await exec('mkswap', ['-q', swap]);
  await exec('dd', [`if=${swap}`, `of=${disk}`, `seek=${startSector}`, 'bs=512', 'conv=notrunc,sparse', 'status=none']);
  rmSync(swap);
}

export async function buildQcow2(raw: string, out: string, options: { backingFile?: string } = {}): Promise<string> {
  if (options.backingFile !== undefined) await exec('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', options.backingFile, '-F', 'raw', out]);
  else await exec('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, out]);
  return out;
}

export interface ListedEntry {
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly size?: number;
  readonly sha256?: string;
  readonly link?: string;
  /** For the second and later names of one inode: the first name (sorted order). */
  readonly hardlinkOf?: string;
  /** xattr name → hex value (security.capability, user.*). */
  readonly xattrs: Readonly<Record<string, string>>;
  /** [atime, mtime, ctime] in nanoseconds, with listTree(root, { allTimes: true }). */
  readonly times?: readonly [string, string, string];
}

const LISTER = String.raw`
import hashlib, json, os, stat, sys
root, all_times = sys.argv[1], sys.argv[2] == 'all-times'
out, inodes = [], {}
# O_NOATIME: looking must not change what is looked at (access times included).
NOATIME = os.O_RDONLY | os.O_NOFOLLOW | os.O_NOATIME
def visit(rel):
    path = os.path.join(root, rel) if rel != '.' else root
    st = os.lstat(path)
    kind = {stat.S_IFREG: 'file', stat.S_IFDIR: 'directory', stat.S_IFLNK: 'symlink', stat.S_IFIFO: 'fifo', stat.S_IFCHR: 'char', stat.S_IFBLK: 'block', stat.S_IFSOCK: 'socket'}[stat.S_IFMT(st.st_mode)]
    entry = {'path': rel, 'type': kind, 'mode': oct(stat.S_IMODE(st.st_mode)), 'uid': st.st_uid, 'gid': st.st_gid, 'mtime': int(st.st_mtime), 'xattrs': {}}
    if all_times:
        entry['times'] = [str(st.st_atime_ns), str(st.st_mtime_ns), str(st.st_ctime_ns)]
    if kind != 'symlink':
        for name in sorted(os.listxattr(path, follow_symlinks=False)):
            entry['xattrs'][name] = os.getxattr(path, name, follow_symlinks=False).hex()
    # readlink(2) updates a symlink's access time: not done when times are what is looked at.
    if kind == 'symlink' and not all_times:
        entry['link'] = os.readlink(path)
    if kind == 'file':
        entry['size'] = st.st_size
        fd = os.open(path, NOATIME)
        with os.fdopen(fd, 'rb') as f:
            entry['sha256'] = hashlib.sha256(f.read()).hexdigest()
        if (st.st_dev, st.st_ino) in inodes:
            entry['hardlinkOf'] = inodes[(st.st_dev, st.st_ino)]
        else:
            inodes[(st.st_dev, st.st_ino)] = rel
    out.append(entry)
    if kind == 'directory':
        fd = os.open(path, NOATIME | os.O_DIRECTORY)
        try:
            names = sorted(os.listdir(fd))
        finally:
            os.close(fd)
        for name in names:
            visit(name if rel == '.' else rel + '/' + name)
visit('.')
json.dump(out, sys.stdout)
`;

/**
 * Every entry of the tree at `root` ("." first), without following any symlink or changing any
 * access time. With `allTimes`, each entry also carries [atime, mtime, ctime] in nanoseconds
 * (and symlink targets are not read): a listing that shows whether anything at all touched the tree.
 */
export async function listTree(root: string, options: { allTimes?: boolean } = {}): Promise<ListedEntry[]> {
  const { stdout } = await exec('python3', ['-c', LISTER, root, options.allTimes === true ? 'all-times' : 'content'], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as ListedEntry[];
}

/** The source listing as it should come out of an unprivileged extraction: device nodes and FIFOs dropped. */
export function withoutSpecialFiles(entries: readonly ListedEntry[]): ListedEntry[] {
  return entries.filter((e) => e.type !== 'char' && e.type !== 'block' && e.type !== 'fifo' && e.type !== 'socket');
}

/** A listing with `lost+found` (made by mkfs) removed. */
export function withoutLostAndFound(entries: readonly ListedEntry[]): ListedEntry[] {
  return entries.filter((e) => e.path !== 'lost+found' && !e.path.startsWith('lost+found/'));
}

/** Mount points, loop devices and processes that mention `dir`: all must be empty once an extraction is over. */
export async function leftoversOf(dir: string): Promise<{ mounts: string[]; loops: string[]; processes: string[] }> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(dir));
  const { stdout } = await exec('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']);
  const loops = stdout.split('\n').filter((line) => line.includes(dir));
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(dir)) processes.push(`${pid}: ${cmdline}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return { mounts, loops, processes };
}

export async function assertNothingLeft(dir: string): Promise<void> {
  assert.deepEqual(await leftoversOf(dir), { mounts: [], loops: [], processes: [] }, `nothing of ${dir} is left mounted, attached or running`);
}

/**
 * The mounts that processes running `command` (e.g. fuse2fs) with `dir` in their arguments see,
 * from /proc/<pid>/mountinfo: how a test proves that a reader's mount exists, but only in its
 * own namespace.
 */
export function mountsSeenBy(command: string, dir: string): string[] {
  const seen: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.endsWith(command) || !argv.some((arg) => arg.includes(dir))) continue;
      seen.push(...readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter((line) => line.includes(dir)));
    } catch {
      // The process ended while we looked.
    }
  }
  return seen;
}

function execWithInput(command: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, (error) => (error ? reject(error) : resolve()));
    child.stdin?.end(input);
  });
}
