import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { BERTH_CONFIG, LOGGER, NotFoundError, ValidationError, type BerthConfig, type Logger } from '#core';
import { CreateInstanceCommand, GetInstanceQuery, InstanceAlreadyExistsError, type PopulateContext, type PopulateResult } from '#instances';
import { GetNetworkQuery, formatSubnet, formatIpv4, parseInterfaceAddress } from '#network';
import { OperationRunner, type OperationContext, type OperationView } from '#operations';
import { GetProfileQuery } from '#profiles';
import { detectVmSource, extractGuest, extractGuestOverSsh, type ExtractedGuest, type VmSourceKind } from '../sources/index.js';

type SourceKind = VmSourceKind | 'ssh';
import { fixUpGuest, renderReport, type FixUpOptions, type MigrationReport } from '../guest/index.js';
import { parseImportSource, type ImportSource } from './import-source.js';
import { MigrationReports } from '../infrastructure/migration-reports.repository.js';
import { ImportVmCommand } from './import-vm.command.js';

type Devices = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** The report as stored and answered: what was read, how, and what the guest fix-ups did. */
export interface StoredReport extends MigrationReport {
  source: { path: string; kind: SourceKind; reader?: string; partition?: ExtractedGuest['partition']; entries: number; bytes: number; warnings: string[] };
  dryRun: boolean;
  /** The report as the CLI prints it. */
  text: string;
}

const LIVE_COPY =
  'copied from a running machine: files written during the copy (databases, logs) may be inconsistent; stop such services on the machine for the copy, or import again';

/** The source as reports name it: a path, or user@host:path. */
const label = (source: ImportSource) => (source.ssh ? `${source.ssh.user}@${source.ssh.host}:${source.path}` : source.path);

/**
 * Imports a VM as an instance: the request is validated and the instance recorded at once (a
 * taken name is a 409 before anything is read), then, in the create operation and under the
 * instance's lock, the source is read into the new volume, the guest is inspected and adapted,
 * the report is stored with the instance, and the guest's static address becomes a DHCP
 * reservation when it fits the network eth0 is on. Any failure removes the volume and the record.
 * A dry run reads the source into scratch space under BERTH_DIR, reports, and removes it.
 */
@CommandHandler(ImportVmCommand)
export class ImportVmHandler implements ICommandHandler<ImportVmCommand> {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly operations: OperationRunner,
    private readonly reports: MigrationReports,
    @Inject(BERTH_CONFIG) private readonly config: BerthConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async execute({ body }: ImportVmCommand): Promise<OperationView> {
    const source = parseImportSource(body.source);
    let kind: SourceKind;
    if (source.ssh) kind = 'ssh';
    else {
      await this.checkReadable(source.path);
      kind = source.kind ?? (await detectVmSource(source.path));
    }
    const { source: _ignored, ...instanceBody } = body;
    if (source.dryRun) return this.dryRun(source, kind, instanceBody);
    const started = Date.now();
    return this.commands.execute(
      new CreateInstanceCommand({ ...instanceBody, source: { type: 'none' } }, (ctx) => this.populate(ctx, source, kind, started)),
    );
  }

  private async checkReadable(path: string): Promise<void> {
    try {
      await stat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ValidationError('source.path', code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code})`);
    }
  }

  private async populate(ctx: PopulateContext, source: ImportSource, kind: SourceKind, started: number): Promise<PopulateResult> {
    const network = await this.networkOf(ctx.instance.expandedDevices);
    const extracted = await this.read(source, kind, ctx.rootfs, join(ctx.rootfs, '..'), ctx);
    await ctx.progress({ import_progress: 'Adapting the guest' });
    const report = await fixUpGuest(ctx.rootfs, { dryRun: false, network: network?.facts ?? null });
    const nic = network?.device;
    return {
      devices: report.network.reservation && nic ? { [nic]: { 'ipv4.address': report.network.reservation } } : undefined,
      finish: async ({ refused }) => {
        if (refused && report.network.reservation) {
          report.warnings.push(`${report.network.reservation} was not reserved (${refused}); eth0 takes an address by DHCP`);
          report.network.reservation = undefined;
        }
        const stored = this.stored(report, source, kind, extracted, false);
        await this.reports.store({ instanceName: ctx.instance.name, source: label(source), sourceKind: kind, report: { ...stored }, durationMs: Date.now() - started });
        this.log.info({ instance: ctx.instance.name, source: label(source), kind, changes: report.changes.length, ms: Date.now() - started }, 'imported a VM');
        return { report: stored, rendered: stored.text };
      },
    };
  }

  private async dryRun(source: ImportSource, kind: SourceKind, body: Record<string, unknown>): Promise<OperationView> {
    const name = typeof body.name === 'string' ? body.name : '';
    if (name === '') throw new ValidationError('name', 'is required');
    if (await this.exists(name)) throw new InstanceAlreadyExistsError(name);
    const network = await this.networkOf(await this.requestedDevices(body));
    return this.operations.start({
      description: 'Inspecting a VM for import (dry run)',
      cancellable: true,
      run: async (ctx) => {
        const scratch = join(this.config.BERTH_DIR, 'migrate');
        await mkdir(scratch, { recursive: true, mode: 0o700 });
        const work = await mkdtemp(join(scratch, 'dry-run-'));
        try {
          const rootfs = join(work, 'rootfs');
          const extracted = await this.read(source, kind, rootfs, work, ctx);
          const report = await fixUpGuest(rootfs, { dryRun: true, network: network?.facts ?? null });
          const stored = this.stored(report, source, kind, extracted, true);
          return { report: stored, rendered: stored.text };
        } finally {
          await rm(work, { recursive: true, force: true });
        }
      },
    });
  }

  private async read(source: ImportSource, kind: SourceKind, target: string, workDir: string, ctx: Pick<OperationContext, 'signal' | 'progress'>): Promise<ExtractedGuest> {
    let last = '';
    const common = {
      target,
      signal: ctx.signal,
      onProgress: (p: { phase: string; bytesRead: number; totalBytes: number; entries: number }) => {
        const percent = p.totalBytes > 0 ? Math.min(100, Math.floor((p.bytesRead * 100) / p.totalBytes)) : 0;
        const text = `${p.phase[0]!.toUpperCase()}${p.phase.slice(1)}: ${percent}% (${p.entries} entries)`;
        if (text === last) return;
        last = text;
        void ctx.progress({ import_progress: text, progress: { phase: p.phase, percent, entries: p.entries, bytes_read: p.bytesRead, total_bytes: p.totalBytes } }).catch(() => undefined);
      },
    };
    if (source.ssh) return extractGuestOverSsh({ ...common, ssh: source.ssh, knownHosts: join(this.config.BERTH_DIR, 'ssh', 'known_hosts') });
    return extractGuest({ ...common, source: source.path, kind: kind as VmSourceKind, workDir });
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

  /** The devices an instance made from `body` would have: its profiles' in order, then its own. */
  private async requestedDevices(body: Record<string, unknown>): Promise<Devices> {
    const profiles = Array.isArray(body.profiles) ? (body.profiles as unknown[]).filter((p): p is string => typeof p === 'string') : ['default'];
    let devices: Record<string, Record<string, string>> = {};
    for (const name of profiles) {
      const { profile } = await this.queries.execute(new GetProfileQuery(name));
      devices = { ...devices, ...(profile.devices as Record<string, Record<string, string>>) };
    }
    if (typeof body.devices === 'object' && body.devices !== null) devices = { ...devices, ...(body.devices as Record<string, Record<string, string>>) };
    return devices;
  }

  /** The managed network the guest's eth0 will be on, with its subnet (for the reservation). */
  private async networkOf(devices: Devices): Promise<{ device: string; facts: NonNullable<FixUpOptions['network']> } | undefined> {
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
