import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { WarningSeverity, WarningStatus } from '../domain/warning.js';

@Entity({ name: 'warnings' })
export class WarningRecord {
  @PrimaryColumn('uuid') uuid!: string;
  @Column('text') type!: string;
  @Column('text', { name: 'entity_url' }) entityUrl!: string;
  @Column('text') severity!: WarningSeverity;
  @Column('text') status!: WarningStatus;
  @Column('integer') count!: number;
  @Column('text', { name: 'last_message' }) lastMessage!: string;
  @Column('timestamptz', { name: 'first_seen_at' }) firstSeenAt!: Date;
  @Column('timestamptz', { name: 'last_seen_at' }) lastSeenAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
