// Fault injection for VM imports: berthd is killed with SIGKILL once the instance is held, while
// the disk image is being read (its readers in their private namespaces), and once the guest is
// adapted; after a restart the instance of the interrupted import is gone with its volume, no
// reader is left running, nothing is mounted or attached, and the same import then succeeds.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { clearHolds, eventually, holdAt, hostResources, reached, settledDiff, type HostResources } from '../support/faults.js';
import { ensureLampVm, type LampVm } from '../support/lamp-vm.js';

/** Processes whose command line names `path` (a reader of the disk image). */
function readersOf(path: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(path) && Number(pid) !== process.pid) out.push(`${pid}: ${cmdline}`);
    } catch {
      // ended while we looked
    }
  }
  return out;
}

describe('fault injection: berthd killed in the middle of a VM import', () => {
  let d: Daemon;
  let vm: LampVm;
  let baseline: HostResources;
  const { finish, wait } = daemonApi(() => d, { timeoutSeconds: 600 });
  const scope = { instances: ['vm1'], bridges: [] };
  const importVm = (path: string) => d.api().post('/1.0/instances').send({ name: 'vm1', source: { type: 'migration', mode: 'import', path } });

  before(async () => {
    vm = await ensureLampVm();
    d = await startDaemon();
    // The directories a first import creates (the migrate scratch, the logs) are the baseline's.
    await finish(await importVm(vm.tarball));
    await finish(await d.api().delete('/1.0/instances/vm1'));
    baseline = await hostResources(d, scope);
  });
  after(async () => {
    await clearHolds(d);
    await d.api().delete('/1.0/instances/vm1');
    await d.destroy();
  });

  async function restartAndCheck(operation: string, what: string): Promise<void> {
    await clearHolds(d);
    d = await d.restart();
    const op = (await d.api().get(operation).expect(200)).body.metadata;
    assert.equal(op.status, 'Failure');
    assert.match(op.err, /^Interrupted: the daemon stopped before the operation finished/);
    await d.api().get('/1.0/instances/vm1').expect(404);
    await d.api().get('/1.0/migrations/vm1').expect(404);
    assert.deepEqual(await settledDiff(d, baseline, scope), {}, `${what}: nothing of the interrupted import is left`);
    assert.deepEqual(readersOf(vm.rawDisk), [], `${what}: no reader of the disk image runs`);
  }

  for (const step of ['import-vm.held', 'import-vm.adapted']) {
    it(`killed at ${step}: the instance and its volume are gone after the restart`, async () => {
      await holdAt(d, step);
      const res = await importVm(vm.tarball);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      await reached(d, step);
      await d.kill('SIGKILL');
      await restartAndCheck(res.body.operation!, `killed at ${step}`);
    });
  }

  it('killed while the disk image is being read: its readers die with the daemon, and the instance goes', async () => {
    const res = await importVm(vm.rawDisk);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await eventually('the disk image to be read', async () => (readersOf(vm.rawDisk).length > 0 ? true : undefined), 120_000);
    await d.kill('SIGKILL');
    await restartAndCheck(res.body.operation!, 'killed while reading the disk image');
  });

  it('the same import then succeeds', async () => {
    const op = await wait(await importVm(vm.tarball));
    assert.equal(op.status, 'Success', op.err);
    await d.api().get('/1.0/migrations/vm1').expect(200);
  });
});
