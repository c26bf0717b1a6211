import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The report of the VM import an instance came from (table `migration_reports`), keyed by the
 * instance's name: renamed and deleted with it through the instances context's events.
 */
@Entity({ name: 'migration_reports' })
export class MigrationReportRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('text', { name: 'instance_name' }) instanceName!: string;
  @Column('text') source!: string;
  @Column('text', { name: 'source_kind' }) sourceKind!: string;
  @Column('jsonb') report!: Record<string, unknown>;
  @Column('integer', { name: 'duration_ms' }) durationMs!: number;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
}
