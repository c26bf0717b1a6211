import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'networks' })
export class NetworkRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('text') name!: string;
  @Column('text') type!: 'bridge';
  @Column('text') description!: string;
  @Column('jsonb') config!: Record<string, string>;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
}
