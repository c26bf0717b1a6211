import { spawn } from 'node:child_process';
import { isExecutable } from '#core';
import type { FilesystemType } from './filesystem.js';
import { diesWithDaemon, produceTar, TAR_CREATE_ARGS, TOOL_ENV, type ProducerExit, type TarProducer } from './tar-producer.js';

/*
 * Reads one partition of a raw disk image (or a source directory, through a read-only bind mount)
 * without ever mounting it where the host can see it:
 * everything runs in `unshare --mount --propagation private --pid --fork --kill-child`, so the
 * mount exists only in a throw-away mount namespace whose last process is the shell below. If
 * that shell dies (or we kill unshare), the PID namespace and with it the FUSE daemon, the mount
 * and an autoclear loop device all go away: nothing is left on the host.
 * - fuse2fs: the ext2/3/4 driver of e2fsprogs in userspace, on the image file itself
 *   (-o offset=), read-only and without journal replay (norecovery): a hostile filesystem is
 *   parsed by a process, not by the kernel.
 * - kernel: the documented fallback (no fuse2fs, or XFS/btrfs): `mount -o ro,loop,offset,sizelimit`
 *   with nosuid,nodev,noexec and no log replay; mount(8) makes the loop device read-only and
 *   autoclear, so it is detached as soon as the namespace goes.
 * Read: unshare(1), mount_namespaces(7), pid_namespaces(7), fuse2fs(1), losetup(8), mount(8).
 */

export type DiskReader = 'fuse2fs' | 'kernel';

export interface PartitionLocation {
  /** The raw image file, opened read-only by the reader. */
  readonly image: string;
  readonly offset: number;
  readonly size: number;
  readonly filesystem: FilesystemType;
  readonly reader: DiskReader;
  /** An empty directory to mount on, inside the private namespace only. */
  readonly mountpoint: string;
}

const FUSE2FS = '/usr/bin/fuse2fs';
const UNSHARE = '/usr/bin/unshare';
export const MOUNT_FAILED_STATUS = 97;
const UNMOUNT_FAILED_STATUS = 99;

/* Arguments: image-or-directory mountpoint reader fstype offset size options action [tar arguments...]. */
const READER_SCRIPT = `
set -u
image=$1 mountpoint=$2 reader=$3 fstype=$4 offset=$5 size=$6 options=$7 action=$8
shift 8
if [ "$reader" = fuse2fs ]; then
  fuse2fs "$image" "$mountpoint" -o "ro,norecovery,fakeroot,offset=$offset" >&2
elif [ "$reader" = bind ]; then
  mount --bind -- "$image" "$mountpoint" >&2 && mount -o remount,bind,ro,noatime,nosuid,nodev,noexec -- "$mountpoint" >&2
else
  mount -t "$fstype" -o "ro,loop,offset=$offset,sizelimit=$size,nosuid,nodev,noexec,$options" -- "$image" "$mountpoint" >&2
fi || exit ${MOUNT_FAILED_STATUS}
cd "$mountpoint" || exit ${MOUNT_FAILED_STATUS}
if [ "$action" = probe ]; then
  find . -mindepth 1 -maxdepth 3 \\( \\( -path ./etc -o -path ./usr -o -path ./usr/lib \\) -type d \\) \\
    -o \\( \\( -path ./etc/os-release -o -path ./usr/lib/os-release \\) -type f -print -quit \\) -o -prune
else
  tar "$@" .
fi
status=$?
cd /
umount "$mountpoint" || exit ${UNMOUNT_FAILED_STATUS}
exit $status
`;

/* Kernel mount options that keep a read-only mount from replaying a journal or log (a write). */
const NO_REPLAY: Readonly<Record<FilesystemType, { type: string; options: string }>> = {
  ext2: { type: 'ext4', options: 'noload' },
  ext3: { type: 'ext4', options: 'noload' },
  ext4: { type: 'ext4', options: 'noload' },
  xfs: { type: 'xfs', options: 'norecovery' },
  btrfs: { type: 'btrfs', options: 'rescue=nologreplay' },
};

/** fuse2fs for ext2/3/4 when it is installed, the kernel otherwise; `forced` overrides (tests, operators). */
export function chooseReader(filesystem: FilesystemType, forced?: DiskReader): DiskReader {
  if (forced !== undefined) return forced;
  return filesystem.startsWith('ext') && isExecutable(FUSE2FS) ? 'fuse2fs' : 'kernel';
}

/** How the partition was read, for the import report. */
export function describeReader(reader: DiskReader, filesystem: FilesystemType): string {
  return reader === 'fuse2fs'
    ? `fuse2fs (userspace ${filesystem}, read-only, no journal replay) on the image file, in a private mount namespace`
    : `kernel ${filesystem} driver, read-only loop mount without log replay (nosuid,nodev,noexec), in a private mount namespace`;
}

/** True when the partition holds etc/os-release or usr/lib/os-release as a regular file (no symlink followed). */
export async function probeOsRelease(location: PartitionLocation, signal?: AbortSignal): Promise<{ found: boolean; mountError?: string }> {
  const child = spawn(...diesWithDaemon(UNSHARE, readerCommand(location, 'probe', []).slice(1)), { stdio: ['ignore', 'pipe', 'pipe'], env: TOOL_ENV, signal, killSignal: 'SIGKILL' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text.slice(0, 4096)));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text.slice(0, 4096)));
  const [code] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  });
  if (code === MOUNT_FAILED_STATUS) return { found: false, mountError: firstLines(stderr) };
  if (code !== 0) throw new Error(`Probing ${location.image} at offset ${location.offset} failed (exit ${code}): ${firstLines(stderr)}`);
  return { found: stdout.trim() !== '' };
}

/** A tar stream of the partition's tree; `onFailure` types the error when the reader fails. */
export function tarOfPartition(location: PartitionLocation, onFailure: (exit: ProducerExit) => Promise<Error> | Error): TarProducer {
  return produceTar(readerCommand(location, 'tar', TAR_CREATE_ARGS), onFailure);
}

/**
 * A tar stream of a directory, read through a read-only, noatime bind mount of it in a private
 * namespace: the kernel guarantees the source is not changed, not even an access time (which
 * readlink(2) would otherwise update). A bind mount does not include the mounts below the
 * directory, like tar's --one-file-system.
 */
export function tarOfDirectory(directory: string, mountpoint: string, onFailure: (exit: ProducerExit) => Promise<Error> | Error): TarProducer {
  const location = { image: directory, offset: 0, size: 0, filesystem: 'ext4', reader: 'bind', mountpoint } as const;
  return produceTar(readerCommand(location, 'tar', TAR_CREATE_ARGS), onFailure);
}

function readerCommand(location: Omit<PartitionLocation, 'reader'> & { reader: DiskReader | 'bind' }, action: 'probe' | 'tar', tarArgs: readonly string[]): [string, ...string[]] {
  const kernel = NO_REPLAY[location.filesystem];
  return [
    UNSHARE,
    '--mount',
    '--propagation',
    'private',
    '--pid',
    '--fork',
    '--kill-child',
    '--',
    '/bin/sh',
    '-c',
    READER_SCRIPT,
    'berth-disk-reader',
    location.image,
    location.mountpoint,
    location.reader,
    kernel.type,
    String(location.offset),
    String(location.size),
    kernel.options,
    action,
    ...tarArgs,
  ];
}

function firstLines(text: string): string {
  return text.trim().split('\n').slice(0, 3).join(' / ') || 'no message';
}
