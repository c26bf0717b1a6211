import { join } from 'node:path';
import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { LOGGER, NotFoundError, TestHooks, ValidationError, type Logger } from '#core';
import {
  CreateInstanceCommand,
  DeleteInstanceCommand,
  GetInstanceQuery,
  HoldInstanceCommand,
  InstanceAlreadyExistsError,
  InstanceEtagMismatchError,
  PreviewInstanceQuery,
  ReleaseInstanceCommand,
  UpdateInstanceCommand,
  type InstanceDefinition,
} from '#instances';
import { GetNetworkQuery, formatSubnet, formatIpv4, parseInterfaceAddress } from '#network';
import { OperationRunner, OperationStatus, type OperationContext, type OperationView } from '#operations';
import { DefaultPool } from '#storage';
import type { ExtractGuestProgress, ExtractedGuest } from '../sources/index.js';
import { renderReport, type FixUpOptions, type MigrationReport } from '../guest/index.js';
import { MigrationReports } from '../infrastructure/migration-reports.repository.js';
import type { ImportSource } from './import-source.js';
import { IMPORT_TOOLS, type ImportTools, type SourceKind } from './import-tools.js';
import { ImportVmCommand } from './import-vm.command.js';

type Devices = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** The report as stored and answered: what was read, how, and what the guest fix-ups did. */
export interface StoredReport extends MigrationReport {
  source: { path: string; kind: SourceKind; reader?: string; partition?: ExtractedGuest['partition']; entries: number; bytes: number; warnings: string[] };
  dryRun: boolean;
  /** The report as the CLI prints it. */
  text: string;
}

/** The managed network the guest's eth0 will be on: its nic device, and the facts the fix-ups need. */
interface GuestNetwork {
  device: string;
  facts: NonNullable<FixUpOptions['network']>;
}

const LIVE_COPY =
  'copied from a running machine: files written during the copy (databases, logs) may be inconsistent; stop such services on the machine for the copy, or import again';

/** How often a reservation is asked for again when the instance changed between reading and asking. */
const RESERVATION_ATTEMPTS = 3;

/** The source as reports name it: a path, or user@host:path. */
const label = (source: ImportSource) => (source.ssh ? `${source.ssh.user}@${source.ssh.host}:${source.path}` : source.path);

/**
 * Imports a VM as an instance, a process of its own that drives the instances context by its
 * commands. The request is validated and the instance created with an empty root volume at once
 * (a taken name is a 409 before anything is read); the answer is the import's operation, which
 * waits for the create, reads the source into the volume, inspects and adapts the guest, asks for
 * the guest's static address as a DHCP reservation when it fits the network eth0 is on (a refusal
 * becomes a warning), and stores the report. A failure or a cancellation deletes the instance.
 * A dry run reads the source into scratch space under BERTH_DIR, reports, and removes it.
 */
@CommandHandler(ImportVmCommand)
export class ImportVmHandler implements ICommandHandler<ImportVmCommand> {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly operations: OperationRunner,
    private readonly pool: DefaultPool,
    private readonly reports: MigrationReports,
    @Inject(IMPORT_TOOLS) private readonly tools: ImportTools,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly hooks: TestHooks,
  ) {}

  async execute({ source, definition, start }: ImportVmCommand): Promise<OperationView> {
    const kind: SourceKind = source.ssh ? 'ssh' : await this.tools.detect(source.path, source.kind);
    if (source.dryRun) return this.dryRun(source, kind, definition);
    const started = Date.now();
    const created = await this.commands.execute(new CreateInstanceCommand(definition, { type: 'none' }, start));
    const { name } = definition;
    return this.operations.start({
      description: 'Importing a VM',
      resources: { instances: [`/1.0/instances/${name}`], containers: [`/1.0/containers/${name}`] },
      cancellable: true,
      run: async (ctx) => {
        try {
          return await this.import(name, created.id, source, kind, started, ctx);
        } catch (err) {
          await this.removeInstance(name, err);
          throw err;
        }
      },
    });
  }

  private async import(name: string, createOperation: string, source: ImportSource, kind: SourceKind, started: number, ctx: OperationContext): Promise<Record<string, unknown>> {
    const create = await this.operations.wait(createOperation, -1);
    if (create.status_code !== OperationStatus.Success) throw new Error(create.err);
    ctx.signal.throwIfAborted();
    // Until the guest is in place, the instance is this import's: no start, rename or change.
    await this.commands.execute(new HoldInstanceCommand(name, 'a VM is being imported into it'));
    await this.hooks.reach('import-vm.held');
    const { instance } = await this.queries.execute(new GetInstanceQuery(name));
    const network = await this.networkOf(instance.expanded_devices);
    const volume = (await this.pool.get()).instanceVolumePath(name);
    const rootfs = join(volume, 'rootfs');
    const extracted = await this.read(source, kind, { target: rootfs, workDir: volume }, ctx);
    await ctx.progress({ import_progress: 'Adapting the guest' });
    const report = await this.tools.fixUp(rootfs, { dryRun: false, network: network?.facts ?? null });
    await this.hooks.reach('import-vm.adapted');
    await this.commands.execute(new ReleaseInstanceCommand(name));
    if (report.network.reservation && network) await this.reserve(name, network.device, report);
    ctx.signal.throwIfAborted();
    const stored = this.stored(report, source, kind, extracted, false);
    await this.reports.store({ instanceName: name, source: label(source), sourceKind: kind, report: { ...stored }, durationMs: Date.now() - started });
    this.log.info({ instance: name, source: label(source), kind, changes: report.changes.length, ms: Date.now() - started }, 'imported a VM');
    return { report: stored, rendered: stored.text };
  }

  /** Undoes the create: nothing of a failed or cancelled import is left, neither record nor volume. */
  private async removeInstance(name: string, cause: unknown): Promise<void> {
    this.log.warn({ instance: name, err: (cause as Error).message }, 'VM import failed; removing its instance');
    try {
      await this.commands.execute(new DeleteInstanceCommand(name, true));
    } catch (err) {
      if (err instanceof NotFoundError) return;
      this.log.error({ instance: name, err: (err as Error).message }, 'could not remove the instance of a failed VM import');
    }
  }

  /**
   * Asks instances for the guest's address as a reservation on its nic (the device as it stands,
   * from the instance or its profile, with `ipv4.address` set). A refusal (the address is held by
   * another instance, or outside the network) leaves eth0 on DHCP, with a warning in the report.
   */
  private async reserve(name: string, nic: string, report: MigrationReport): Promise<void> {
    const address = report.network.reservation!;
    for (let attempt = 1; ; attempt++) {
      const { instance, etag } = await this.queries.execute(new GetInstanceQuery(name));
      const device = { ...(instance.devices[nic] ?? instance.expanded_devices[nic]), 'ipv4.address': address };
      try {
        await this.commands.execute(new UpdateInstanceCommand(name, 'merge', { devices: { [nic]: device } }, etag));
        return;
      } catch (err) {
        if (err instanceof InstanceEtagMismatchError && attempt < RESERVATION_ATTEMPTS) continue;
        if (!(err instanceof ValidationError)) throw err;
        report.warnings.push(`${address} was not reserved (${err.message}); eth0 takes an address by DHCP`);
        report.network.reservation = undefined;
        return;
      }
    }
  }

  private async dryRun(source: ImportSource, kind: SourceKind, definition: InstanceDefinition): Promise<OperationView> {
    const { devices } = await this.queries.execute(new PreviewInstanceQuery(definition));
    if (await this.exists(definition.name)) throw new InstanceAlreadyExistsError(definition.name);
    const network = await this.networkOf(devices);
    return this.operations.start({
      description: 'Inspecting a VM for import (dry run)',
      cancellable: true,
      run: (ctx) =>
        this.tools.inScratch(async (work) => {
          const rootfs = join(work, 'rootfs');
          const extracted = await this.read(source, kind, { target: rootfs, workDir: work }, ctx);
          const report = await this.tools.fixUp(rootfs, { dryRun: true, network: network?.facts ?? null });
          const stored = this.stored(report, source, kind, extracted, true);
          return { report: stored, rendered: stored.text };
        }),
    });
  }

  /** Reads the source, telling its progress as `import_progress` (and the numbers as `progress`) when the text changes. */
  private read(source: ImportSource, kind: SourceKind, into: { target: string; workDir: string }, ctx: OperationContext): Promise<ExtractedGuest> {
    let last = '';
    const onProgress = (p: ExtractGuestProgress) => {
      const percent = p.totalBytes > 0 ? Math.min(100, Math.floor((p.bytesRead * 100) / p.totalBytes)) : 0;
      const text = `${p.phase[0]!.toUpperCase()}${p.phase.slice(1)}: ${percent}% (${p.entries} entries)`;
      if (text === last) return;
      last = text;
      void ctx.progress({ import_progress: text, progress: { phase: p.phase, percent, entries: p.entries, bytes_read: p.bytesRead, total_bytes: p.totalBytes } }).catch(() => undefined);
    };
    return this.tools.read(source, kind, into, { signal: ctx.signal, onProgress });
  }

  private stored(report: MigrationReport, source: ImportSource, kind: SourceKind, extracted: ExtractedGuest, dryRun: boolean): StoredReport {
    if (kind === 'ssh' && !report.warnings.includes(LIVE_COPY)) report.warnings.push(LIVE_COPY);
    return {
      ...report,
      source: { path: label(source), kind, reader: extracted.reader, partition: extracted.partition, entries: extracted.entries, bytes: extracted.bytesWritten, warnings: extracted.warnings },
      dryRun,
      text: renderReport(report),
    };
  }

  private async exists(name: string): Promise<boolean> {
    try {
      await this.queries.execute(new GetInstanceQuery(name));
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** The managed network the guest's eth0 will be on, with its subnet (for the reservation). */
  private async networkOf(devices: Devices): Promise<GuestNetwork | undefined> {
    const entry = Object.entries(devices).find(([key, d]) => d.type === 'nic' && (d.name ?? key) === 'eth0');
    const name = entry?.[1].network ?? entry?.[1].parent;
    if (!entry || !name) return undefined;
    try {
      const view = await this.queries.execute(new GetNetworkQuery(name));
      const address = view.config['ipv4.address'];
      if (!address) return undefined;
      const gateway = parseInterfaceAddress('ipv4.address', address);
      return { device: entry[0], facts: { name, subnet: formatSubnet(gateway.subnet), gateway: formatIpv4(gateway.address) } };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }
}
