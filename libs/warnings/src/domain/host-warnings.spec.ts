import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupMounts, hostWarnings, rootHasRange, type CgroupFacts, type HostFacts } from './host-warnings.js';

const V2: CgroupFacts = { layout: 'unified', controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'], unifiedControllers: [], swapAccounting: true, blkioWeight: true };
const HYBRID: CgroupFacts = {
  layout: 'hybrid',
  controllers: ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids'],
  unifiedControllers: [],
  swapAccounting: true,
  blkioWeight: true,
};
const HEALTHY: HostFacts = {
  lxcfs: true,
  inotify: { 'fs.inotify.max_user_instances': 1_048_576, 'fs.inotify.max_user_watches': 2_000_000 },
  subuid: 'root:1000000:1000000000\n',
  subgid: 'root:1000000:1000000000\n',
  cgroup: V2,
};
const warnings = (facts: Partial<HostFacts>) => hostWarnings({ ...HEALTHY, ...facts });

describe('host warnings', () => {
  it('none on a healthy cgroup v2 host', () => {
    assert.deepEqual(hostWarnings(HEALTHY), []);
  });

  it('lxcfs not running: what it breaks and what to do', () => {
    const [w] = warnings({ lxcfs: false });
    assert.equal(w?.type, 'lxcfs is not running');
    assert.equal(w?.severity, 'moderate');
    assert.equal(w?.entityUrl, '');
    assert.match(w!.message, /show the host's values/);
    assert.match(w!.message, /Start lxcfs on \/var\/lib\/lxcfs/);
  });

  it('inotify limits below what setup.sh sets name each low key, its value and the sysctl to run', () => {
    const [w] = warnings({ inotify: { 'fs.inotify.max_user_instances': 128, 'fs.inotify.max_user_watches': 1_048_576 } });
    assert.equal(w?.type, 'Inotify limits too low');
    assert.match(w!.message, /^fs\.inotify\.max_user_instances is 128 \(Berth wants at least 1048576\): /);
    assert.doesNotMatch(w!.message, /max_user_watches is/);
    assert.match(w!.message, /sysctl -w fs\.inotify\.max_user_instances=1048576, and keep it in \/etc\/sysctl\.d\//);
    const [unreadable] = warnings({ inotify: { 'fs.inotify.max_user_instances': undefined, 'fs.inotify.max_user_watches': 8192 } });
    assert.match(unreadable!.message, /^fs\.inotify\.max_user_instances is unreadable .*; fs\.inotify\.max_user_watches is 8192 /);
    assert.deepEqual(warnings({ inotify: { 'fs.inotify.max_user_instances': 1_048_576, 'fs.inotify.max_user_watches': 1_048_576 } }), []);
  });

  it("root's subordinate ids: read as Berth's id maps read them (root's first line, at least one container's range)", () => {
    assert.equal(rootHasRange('root:100000:65536\n'), true);
    assert.equal(rootHasRange('_lxd:100000:10000001\nroot:100000:10000001\n'), true);
    assert.equal(rootHasRange('root:100000:65535\n'), false);
    assert.equal(rootHasRange('rooty:100000:1000000\n'), false);
    assert.equal(rootHasRange('root:x:1000000\n'), false);
    assert.equal(rootHasRange(''), false);
    const [w] = warnings({ subgid: 'alice:100000:65536\n' });
    assert.equal(w?.type, 'No subordinate id range for root');
    assert.match(w!.message, /^\/etc\/subgid gives root no range of at least 65536 ids: /);
    assert.match(w!.message, /add root:1000000:1000000000 to \/etc\/subgid\.$/);
    const [both] = warnings({ subuid: '', subgid: '' });
    assert.match(both!.message, /^\/etc\/subuid and \/etc\/subgid give root no range/);
  });

  it('a hybrid host: the layout, what the cgroup2 tree holds, the limits that do not apply, and the fix', () => {
    const [w] = warnings({ cgroup: { ...HYBRID, unifiedControllers: ['hugetlb'], blkioWeight: false } });
    assert.equal(w?.type, 'Cgroup layout limits');
    assert.equal(w?.severity, 'low');
    assert.match(w!.message, /^Hybrid cgroup layout: limits go through cgroup v1 controllers, and the cgroup2 tree beside them holds only hugetlb\. /);
    assert.match(w!.message, /Not applied here: limits\.disk\.priority \(no blkio\.weight or blkio\.bfq\.weight/);
    assert.match(w!.message, /systemd\.unified_cgroup_hierarchy=1, or cgroup_no_v1=all/);
    const [complete] = warnings({ cgroup: HYBRID });
    assert.match(complete!.message, /holds no controllers\. Every limit Berth sets applies through v1 here\./);
  });

  it('a v1 host without controllers or swap accounting names the limits that do not apply', () => {
    const [w] = warnings({ cgroup: { ...HYBRID, layout: 'legacy', controllers: ['cpu', 'cpuset', 'memory', 'blkio'], swapAccounting: false } });
    assert.match(w!.message, /^Legacy cgroup layout: limits go through cgroup v1 controllers\. /);
    assert.match(w!.message, /limits\.processes \(no pids controller\)/);
    assert.match(w!.message, /lxc pause \(the freezer\) \(no freezer controller\)/);
    assert.match(w!.message, /limits\.memory\.swap \(no swap accounting: boot with swapaccount=1\)/);
  });

  it('a v2 host warns only when the root lacks a controller (the freezer is built in)', () => {
    const [w] = warnings({ cgroup: { ...V2, controllers: ['cpu', 'memory', 'pids'] } });
    assert.match(w!.message, /^The cgroup2 root lacks controllers: limits\.cpu \(no cpuset controller\); limits\.disk\.priority and the disk limits\.read, limits\.write \(no io controller\) do not apply\./);
  });

  it('reads the v1 controllers and the cgroup2 mount from mountinfo', () => {
    const mountinfo = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '33 31 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '34 31 0:31 / /sys/fs/cgroup/net_cls,net_prio rw,relatime - cgroup cgroup rw,net_cls,net_prio',
      '35 31 0:32 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
      '36 31 0:33 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate',
    ].join('\n');
    assert.deepEqual(cgroupMounts(mountinfo), { v1Controllers: ['cpu', 'memory', 'net_cls', 'net_prio'], cgroup2: '/sys/fs/cgroup/unified' });
    assert.deepEqual(cgroupMounts('25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n'), { v1Controllers: [], cgroup2: '/sys/fs/cgroup' });
  });
});
