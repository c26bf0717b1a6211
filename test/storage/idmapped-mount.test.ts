import assert from 'node:assert/strict';
import { chmod, chown, mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StoragePools } from '../../libs/storage/src/storage-pools.js';
import { assertNothingLeft, exec, forceCleanup, mountsUnder, tempBerthDir } from './storage-support.js';

/**
 * The runtime mounts an instance volume idmapped (mount_setattr(2) with MOUNT_ATTR_IDMAP). Debian
 * 12's util-linux (2.38) has no X-mount.idmap and its unshare needs newuidmap for ranges, so the
 * same syscalls are made from Python's ctypes: a child enters a new user namespace, the parent
 * writes its uid/gid maps (0 -> HOST_BASE, 65536 ids), then open_tree + mount_setattr + move_mount.
 */
const IDMAP_MOUNT = String.raw`
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_open_tree, SYS_move_mount, SYS_mount_setattr = 428, 429, 442
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC, MOVE_MOUNT_F_EMPTY_PATH = 1, 0o2000000, 4
AT_EMPTY_PATH, AT_FDCWD, MOUNT_ATTR_IDMAP, CLONE_NEWUSER = 0x1000, -100, 0x100000, 0x10000000
class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]
def check(rc, syscall):
    if rc < 0:
        err = ctypes.get_errno()
        sys.exit(f"{syscall}(2) failed: {os.strerror(err)}")
    return rc
source, target, host_base = sys.argv[1], sys.argv[2], int(sys.argv[3])
ready_r, ready_w = os.pipe(); done_r, done_w = os.pipe()
child = os.fork()
if child == 0:
    check(libc.unshare(CLONE_NEWUSER), "unshare")
    os.write(ready_w, b"x"); os.read(done_r, 1); os._exit(0)
os.read(ready_r, 1)
for name in ("uid_map", "gid_map"):
    with open(f"/proc/{child}/{name}", "w") as f: f.write(f"0 {host_base} 65536\n")
userns = os.open(f"/proc/{child}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
os.write(done_w, b"x"); os.waitpid(child, 0)
tree = check(libc.syscall(SYS_open_tree, AT_FDCWD, source.encode(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC), "open_tree")
attr = MountAttr(MOUNT_ATTR_IDMAP, 0, 0, userns)
check(libc.syscall(SYS_mount_setattr, tree, b"", AT_EMPTY_PATH, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))), "mount_setattr")
check(libc.syscall(SYS_move_mount, tree, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH), "move_mount")
`;

const HOST_BASE = 100000;
const IMAGE = '1d'.repeat(32);

describe('idmapped mounts of btrfs instance volumes', () => {
  let berthDir: string;
  after(() => forceCleanup(berthDir));

  it('a snapshot clone accepts MOUNT_ATTR_IDMAP: ids shift both ways through the mount', async () => {
    berthDir = await tempBerthDir('idmap');
    const pools = new StoragePools(berthDir);
    const { pool } = await pools.open('default', { driver: 'btrfs', sizeBytes: 512 * 1024 ** 2 });
    const filling = await pool.createImageVolume(IMAGE);
    await writeFile(join(filling, 'root-file'), 'root');
    await writeFile(join(filling, 'user-file'), 'user');
    await chown(join(filling, 'user-file'), 1000, 1000);
    await pool.sealImageVolume(IMAGE);
    const volume = await pool.createInstanceVolume('c1', IMAGE);

    // mkdtemp made BERTH_DIR 0700; the shifted root must be able to walk to the mount, as it
    // could from inside its own mount namespace.
    await chmod(berthDir, 0o711);
    const target = join(berthDir, 'rootfs');
    await mkdir(target);
    await exec('python3', ['-c', IDMAP_MOUNT, volume, target, String(HOST_BASE)]);
    try {
      const { stdout } = await exec('findmnt', ['--noheadings', '--output', 'FSTYPE,OPTIONS', '--mountpoint', target]);
      assert.match(stdout, /^btrfs\s+\S*\bidmapped\b/);
      const seen = await Promise.all(['root-file', 'user-file'].map((f) => stat(join(target, f))));
      assert.deepEqual(seen.map((s) => [s.uid, s.gid]), [[HOST_BASE, HOST_BASE], [HOST_BASE + 1000, HOST_BASE + 1000]]);
      // The container's root is host uid HOST_BASE: what it writes lands as uid 0 in the volume.
      await exec('setpriv', [`--reuid=${HOST_BASE}`, `--regid=${HOST_BASE}`, '--clear-groups', 'touch', join(target, 'written-by-container-root')]);
      const onDisk = await stat(join(volume, 'written-by-container-root'));
      assert.deepEqual([onDisk.uid, onDisk.gid], [0, 0]);
    } finally {
      await exec('umount', [target]);
      await rmdir(target);
    }

    await pool.deleteInstanceVolume('c1');
    await pool.deleteImageVolume(IMAGE);
    await pools.delete('default');
    await assertNothingLeft(berthDir);
  });
});

describe('idmapped mounts of an overlayfs mount', () => {
  let dir: string;
  after(() => forceCleanup(dir));

  it('are refused with EINVAL (why the runtime falls back to shifting ownership on disk), while its layers accept them', async () => {
    dir = await tempBerthDir('overlay-idmap');
    await chmod(dir, 0o711);
    for (const sub of ['lower', 'upper', 'work', 'merged', 'target']) await mkdir(join(dir, sub));
    await writeFile(join(dir, 'lower', 'file'), 'lower');
    const merged = join(dir, 'merged');
    await exec('mount', ['-t', 'overlay', 'berth-idmap-test', '-o', `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`, merged]);
    try {
      await assert.rejects(exec('python3', ['-c', IDMAP_MOUNT, merged, join(dir, 'target'), String(HOST_BASE)]), (error: { stderr: string }) => {
        assert.match(error.stderr, /mount_setattr\(2\) failed: Invalid argument/);
        return true;
      });
      await exec('python3', ['-c', IDMAP_MOUNT, join(dir, 'lower'), join(dir, 'target'), String(HOST_BASE)]);
      assert.equal((await stat(join(dir, 'target', 'file'))).uid, HOST_BASE);
      await exec('umount', [join(dir, 'target')]);
    } finally {
      await exec('umount', [merged]);
    }
    assert.deepEqual(await mountsUnder(dir), [], 'no mount left');
    await rm(dir, { recursive: true });
  });
});
