import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** The report of the VM import an instance came from (table `migration_reports`). */
@Entity({ name: 'migration_reports' })
export class MigrationReportRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('bigint', { name: 'instance_id' }) instanceId!: string;
  @Column('text') source!: string;
  @Column('text', { name: 'source_kind' }) sourceKind!: string;
  @Column('jsonb') report!: Record<string, unknown>;
  @Column('integer', { name: 'duration_ms' }) durationMs!: number;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
}
