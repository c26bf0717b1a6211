import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

const bigintColumn = { type: 'bigint' as const, nullable: true, transformer: { to: (v?: bigint | null) => (v == null ? v : v.toString()), from: (v?: string | null) => (v == null ? v : BigInt(v)) } };

@Entity({ name: 'quotas' })
export class QuotaRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('bigint', { name: 'profile_id', nullable: true }) profileId!: string | null;
  @Column('bigint', { name: 'instance_id', nullable: true }) instanceId!: string | null;
  @Column('integer', { name: 'cpu_count', nullable: true }) cpuCount!: number | null;
  @Column('integer', { name: 'cpu_set', array: true, nullable: true }) cpuSet!: number[] | null;
  @Column('smallint', { name: 'cpu_allowance_percent', nullable: true }) cpuAllowancePercent!: number | null;
  @Column('integer', { name: 'cpu_quota_us', nullable: true }) cpuQuotaUs!: number | null;
  @Column('integer', { name: 'cpu_period_us', nullable: true }) cpuPeriodUs!: number | null;
  @Column('smallint', { name: 'cpu_priority', nullable: true }) cpuPriority!: number | null;
  @Column({ ...bigintColumn, name: 'memory_bytes' }) memoryBytes!: bigint | null;
  @Column('smallint', { name: 'memory_percent', nullable: true }) memoryPercent!: number | null;
  @Column('text', { name: 'memory_enforce', nullable: true }) memoryEnforce!: 'hard' | 'soft' | null;
  @Column('text', { name: 'memory_swap', nullable: true }) memorySwap!: 'on' | 'off' | 'bytes' | null;
  @Column({ ...bigintColumn, name: 'memory_swap_bytes' }) memorySwapBytes!: bigint | null;
  @Column('integer', { nullable: true }) processes!: number | null;
  @Column('smallint', { name: 'disk_priority', nullable: true }) diskPriority!: number | null;
  @Column({ ...bigintColumn, name: 'disk_read_bps' }) diskReadBps!: bigint | null;
  @Column('integer', { name: 'disk_read_iops', nullable: true }) diskReadIops!: number | null;
  @Column({ ...bigintColumn, name: 'disk_write_bps' }) diskWriteBps!: bigint | null;
  @Column('integer', { name: 'disk_write_iops', nullable: true }) diskWriteIops!: number | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
}
