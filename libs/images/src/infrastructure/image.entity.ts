import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'images' })
export class ImageRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('text') fingerprint!: string;
  @Column('text') type!: 'container';
  @Column('text', { name: 'file_kind' }) fileKind!: 'unified' | 'split';
  @Column('text') filename!: string;
  @Column('bigint', { transformer: { to: (v: number) => v, from: (v: string) => Number(v) } }) size!: number;
  @Column('text') architecture!: string;
  @Column('boolean') public!: boolean;
  @Column('boolean', { name: 'auto_update' }) autoUpdate!: boolean;
  @Column('boolean') cached!: boolean;
  @Column('jsonb') properties!: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  @Column('jsonb') metadata!: Record<string, any>;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt!: Date | null;
  @Column('timestamptz', { name: 'uploaded_at', default: () => 'now()' }) uploadedAt!: Date;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt!: Date | null;
}

@Entity({ name: 'image_aliases' })
export class ImageAliasRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('text') name!: string;
  @Column('bigint', { name: 'image_id' }) imageId!: string;
  @Column('text') description!: string;
}
