import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CommandBus, QueryBus } from '@nestjs/cqrs';
import { createLogger, NotFoundError, TestHooks, ValidationError } from '#core';
import { CreateInstanceCommand, DeleteInstanceCommand, GetInstanceQuery, HoldInstanceCommand, InstanceAlreadyExistsError, InstanceEtagMismatchError, PreviewInstanceQuery, ReleaseInstanceCommand, UpdateInstanceCommand } from '#instances';
import { GetNetworkQuery } from '#network';
import { OperationCancelledError, OperationStatus, type OperationContext, type OperationRunner, type OperationView, type StartOperation } from '#operations';
import type { DefaultPool } from '#storage';
import type { MigrationReport } from '../guest/index.js';
import type { MigrationReports, NewMigrationReport } from '../infrastructure/migration-reports.repository.js';
import { SourceReadFailedError } from '../sources/index.js';
import type { ImportTools } from './import-tools.js';
import { parseImportSource } from './import-source.js';
import { ImportVmCommand } from './import-vm.command.js';
import { ImportVmHandler, type StoredReport } from './import-vm.handler.js';

const LAN = { type: 'nic', network: 'lan', name: 'eth0' };
const VOLUME = '/pool/containers/web';

const operation = (id: string, description: string, status: number = OperationStatus.Running, err = ''): OperationView => ({
  id,
  class: 'task',
  description,
  created_at: '',
  updated_at: '',
  status: '',
  status_code: status,
  resources: {},
  metadata: {},
  may_cancel: true,
  err,
  location: 'none',
});

const guestReport = (): MigrationReport => ({
  guest: { os: { id: 'debian', versionId: '12' }, architecture: 'x86_64', init: 'systemd', initPath: '/lib/systemd/systemd', networkConfig: 'ifupdown', interfaces: [] },
  changes: [{ area: 'network', path: '/etc/network/interfaces', action: 'rewritten', detail: 'ens3 → eth0 by DHCP' }],
  kept: [],
  network: { config: 'ifupdown', oldInterface: 'ens3', newInterface: 'eth0', mode: 'dhcp', staticAddress: '192.168.122.50/24', reservation: '192.168.122.50' },
  warnings: [],
});

interface Options {
  /** Why instances refuses the reservation, if it does. */
  refuseReservation?: string;
  /** How many times the instance changed under the reservation. */
  etagMismatches?: number;
  createFails?: string;
  nameTaken?: boolean;
  readFails?: Error;
  cancelDuringRead?: boolean;
}

/**
 * The handler over fakes of everything around it, each writing the step it was asked for in
 * `steps`: the buses (instances' commands and queries, networks), the operation runner, the pool,
 * the report store and the host's tools.
 */
function harness(options: Options = {}) {
  const steps: string[] = [];
  const sent: unknown[] = [];
  const stored: NewMigrationReport[] = [];
  const progress: Array<Record<string, unknown>> = [];
  const runs: Array<Promise<Record<string, unknown> | void>> = [];
  let instanceExists = false;
  let instanceReads = 0;
  let mismatches = options.etagMismatches ?? 0;

  const commands = {
    execute: async (command: unknown) => {
      sent.push(command);
      if (command instanceof CreateInstanceCommand) {
        steps.push('create');
        if (options.nameTaken) throw new InstanceAlreadyExistsError('web');
        instanceExists = true;
        return operation('create-op', 'Creating instance');
      }
      if (command instanceof UpdateInstanceCommand) {
        steps.push('reserve');
        if (mismatches-- > 0) throw new InstanceEtagMismatchError(command.name);
        if (options.refuseReservation) throw new ValidationError('devices["eth0"]["ipv4.address"]', options.refuseReservation);
        return [];
      }
      if (command instanceof HoldInstanceCommand || command instanceof ReleaseInstanceCommand) {
        steps.push(command instanceof HoldInstanceCommand ? 'hold' : 'release');
        return undefined;
      }
      if (command instanceof DeleteInstanceCommand) {
        steps.push('delete');
        if (!instanceExists) throw new NotFoundError(`Instance not found: ${command.name}`);
        instanceExists = false;
        return undefined;
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as CommandBus;

  const queries = {
    execute: async (query: unknown) => {
      if (query instanceof PreviewInstanceQuery) {
        steps.push('preview');
        return { config: {}, devices: { root: { type: 'disk', path: '/', pool: 'default' }, eth0: LAN } };
      }
      if (query instanceof GetInstanceQuery) {
        steps.push('get-instance');
        if (!instanceExists) throw new NotFoundError(`Instance not found: ${query.name}`);
        return { instance: { devices: {}, expanded_devices: { eth0: LAN } }, etag: `etag-${++instanceReads}` };
      }
      if (query instanceof GetNetworkQuery) {
        steps.push('get-network');
        return { config: { 'ipv4.address': '192.168.122.1/24' } };
      }
      throw new Error(`unexpected query ${String(query)}`);
    },
  } as unknown as QueryBus;

  const abort = new AbortController();
  const operations = {
    start: async (spec: StartOperation) => {
      steps.push(`start: ${spec.description}`);
      const ctx: OperationContext = {
        signal: abort.signal,
        progress: async (metadata) => {
          progress.push(metadata);
        },
      };
      runs.push(spec.run(ctx));
      return { ...operation('import-op', spec.description), may_cancel: spec.cancellable ?? false, resources: spec.resources ?? {} };
    },
    wait: async (id: string) => {
      steps.push(`wait ${id}`);
      return options.createFails ? operation(id, 'Creating instance', OperationStatus.Failure, options.createFails) : operation(id, 'Creating instance', OperationStatus.Success);
    },
  } as unknown as OperationRunner;

  const pool = { get: async () => ({ instanceVolumePath: (name: string) => `/pool/containers/${name}` }) } as unknown as DefaultPool;
  const reports = {
    store: async (report: NewMigrationReport) => {
      steps.push('store');
      stored.push(report);
    },
  } as unknown as MigrationReports;

  const reads: Array<{ target: string; workDir: string }> = [];
  const fixUps: Array<{ rootfs: string; dryRun: boolean; network: unknown }> = [];
  const tools: ImportTools = {
    detect: async (_path, declared) => {
      steps.push('detect');
      return declared ?? 'tarball';
    },
    read: async (_source, kind, into, { onProgress }) => {
      steps.push('read');
      reads.push(into);
      onProgress({ phase: 'copy', bytesRead: 50, totalBytes: 100, entries: 7 });
      if (options.cancelDuringRead) {
        abort.abort(new OperationCancelledError());
        abort.signal.throwIfAborted();
      }
      if (options.readFails) throw options.readFails;
      return { kind, entries: 7, bytesWritten: 100, warnings: [] };
    },
    fixUp: async (rootfs, { dryRun, network }) => {
      steps.push('fix-up');
      fixUps.push({ rootfs, dryRun, network });
      return guestReport();
    },
    inScratch: async (use) => {
      steps.push('scratch');
      return use('/berth/migrate/dry-run-1');
    },
  };

  const handler = new ImportVmHandler(commands, queries, operations, pool, reports, tools, createLogger('silent'), TestHooks.off());
  const importVm = async (source: Record<string, unknown> = {}) => {
    const view = await handler.execute(new ImportVmCommand(parseImportSource({ type: 'migration', mode: 'import', path: '/srv/vm.tar.gz', ...source }), { name: 'web', profiles: ['default', 'lan'] }));
    return { view, result: runs.at(-1)! };
  };
  return { importVm, steps, sent, stored, progress, reads, fixUps };
}

describe('ImportVmHandler', () => {
  it('creates the instance, then in its own operation waits for the create, fills the volume, adapts the guest, reserves its address and stores the report', async () => {
    const h = harness();
    const { view, result } = await h.importVm();
    assert.equal(view.id, 'import-op');
    assert.equal(view.description, 'Importing a VM');
    assert.equal(view.may_cancel, true);
    assert.deepEqual(view.resources, { instances: ['/1.0/instances/web'], containers: ['/1.0/containers/web'] });
    const metadata = (await result) as { report: StoredReport; rendered: string };
    assert.deepEqual(h.steps, [
      'detect',
      'create',
      'start: Importing a VM',
      'wait create-op',
      'hold',
      'get-instance',
      'get-network',
      'read',
      'fix-up',
      'release',
      'get-instance',
      'reserve',
      'store',
    ]);

    // Only the instance's fields, and an empty root: the import fills it in its own operation.
    const create = h.sent[0] as CreateInstanceCommand;
    assert.ok(create instanceof CreateInstanceCommand);
    assert.deepEqual({ ...create }, { definition: { name: 'web', profiles: ['default', 'lan'] }, source: { type: 'none' }, start: false });
    assert.deepEqual(h.reads, [{ target: `${VOLUME}/rootfs`, workDir: VOLUME }]);
    assert.deepEqual(h.fixUps, [{ rootfs: `${VOLUME}/rootfs`, dryRun: false, network: { name: 'lan', subnet: '192.168.122.0/24', gateway: '192.168.122.1' } }]);
    assert.deepEqual(h.progress, [
      { import_progress: 'Copy: 50% (7 entries)', progress: { phase: 'copy', percent: 50, entries: 7, bytes_read: 50, total_bytes: 100 } },
      { import_progress: 'Adapting the guest' },
    ]);

    // PATCH of the nic as it stands (here from the profile), with the address, against the instance as read.
    const update = h.sent.find((c) => c instanceof UpdateInstanceCommand) as UpdateInstanceCommand;
    assert.ok(update instanceof UpdateInstanceCommand);
    assert.equal(update.name, 'web');
    assert.equal(update.mode, 'merge');
    assert.deepEqual(update.changes, { devices: { eth0: { ...LAN, 'ipv4.address': '192.168.122.50' } } });
    assert.equal(update.ifMatch, 'etag-2');
    assert.equal(h.sent.length, 4); // create, hold, release, update

    assert.equal(h.stored.length, 1);
    const [record] = h.stored;
    assert.equal(record!.instanceName, 'web');
    assert.equal(record!.source, '/srv/vm.tar.gz');
    assert.equal(record!.sourceKind, 'tarball');
    assert.deepEqual(record!.report, { ...metadata.report });
    assert.equal(metadata.report.network.reservation, '192.168.122.50');
    assert.deepEqual(metadata.report.source, { path: '/srv/vm.tar.gz', kind: 'tarball', reader: undefined, partition: undefined, entries: 7, bytes: 100, warnings: [] });
    assert.equal(metadata.report.dryRun, false);
    assert.equal(metadata.rendered, metadata.report.text);
    assert.match(metadata.rendered, /192\.168\.122\.50 is reserved for it/);
  });

  it('keeps eth0 on DHCP with a warning when instances refuses the reservation, and still stores the report', async () => {
    const h = harness({ refuseReservation: '192.168.122.50 is already reserved by instance "web"' });
    const metadata = (await (await h.importVm()).result) as { report: StoredReport };
    assert.deepEqual(h.steps.slice(-3), ['get-instance', 'reserve', 'store']);
    assert.equal(metadata.report.network.reservation, undefined);
    assert.deepEqual(metadata.report.warnings, [
      '192.168.122.50 was not reserved (Invalid devices["eth0"]["ipv4.address"]: 192.168.122.50 is already reserved by instance "web"); eth0 takes an address by DHCP',
    ]);
    assert.equal((h.stored[0]!.report as unknown as StoredReport).network.reservation, undefined);
    assert.ok(!h.sent.some((c) => c instanceof DeleteInstanceCommand));
  });

  it('reads the instance again when it changed under the reservation', async () => {
    const h = harness({ etagMismatches: 1 });
    await (await h.importVm()).result;
    assert.deepEqual(h.steps.slice(-5), ['get-instance', 'reserve', 'get-instance', 'reserve', 'store']);
  });

  it('deletes the instance it created when reading the source fails, and fails with the reader\'s error', async () => {
    const failure = new SourceReadFailedError('/srv/vm.tar.gz', 'unexpected end of data');
    const h = harness({ readFails: failure });
    const { result } = await h.importVm();
    await assert.rejects(result, (err) => err === failure);
    assert.deepEqual(h.steps.slice(-2), ['read', 'delete']);
    assert.deepEqual(h.sent.at(-1), new DeleteInstanceCommand('web', true));
    assert.deepEqual(h.stored, []);
  });

  it('deletes the instance when the import is cancelled', async () => {
    const h = harness({ cancelDuringRead: true });
    await assert.rejects((await h.importVm()).result, OperationCancelledError);
    assert.deepEqual(h.steps.slice(-2), ['read', 'delete']);
    assert.deepEqual(h.stored, []);
  });

  it('fails with the create\'s error when the create failed (which left nothing to delete)', async () => {
    const h = harness({ createFails: 'no space left on the pool' });
    await assert.rejects((await h.importVm()).result, /no space left on the pool/);
    assert.ok(!h.steps.includes('read'));
  });

  it('answers a taken name with the create\'s 409 before reading anything or starting an operation', async () => {
    const h = harness({ nameTaken: true });
    await assert.rejects(h.importVm(), InstanceAlreadyExistsError);
    assert.deepEqual(h.steps, ['detect', 'create']);
  });

  it('makes a dry run in scratch space, with the profiles expanded by instances, and never creates the instance', async () => {
    const h = harness();
    const { view, result } = await h.importVm({ dry_run: true });
    assert.equal(view.description, 'Inspecting a VM for import (dry run)');
    const metadata = (await result) as { report: StoredReport; rendered: string };
    assert.deepEqual(h.steps, ['detect', 'preview', 'get-instance', 'get-network', 'start: Inspecting a VM for import (dry run)', 'scratch', 'read', 'fix-up']);
    assert.deepEqual(h.sent, []);
    assert.deepEqual(h.reads, [{ target: '/berth/migrate/dry-run-1/rootfs', workDir: '/berth/migrate/dry-run-1' }]);
    assert.equal(h.fixUps[0]!.dryRun, true);
    assert.deepEqual(h.stored, []);
    assert.equal(metadata.report.dryRun, true);
  });
});
