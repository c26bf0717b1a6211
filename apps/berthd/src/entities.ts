import { ImageAliasRecord, ImageRecord } from '#images';
import { InstanceRecord } from '#instances';
import { MigrationReportRecord } from '#migrate';
import { NetworkRecord } from '#network';
import { OperationRecord } from '#operations';
import { ProfileRecord } from '#profiles';
import { QuotaRecord } from '#quotas';
import { ServerConfigRecord } from '#server';

/** Every TypeORM entity of every context, for the one DataSource. */
export const entities = [ProfileRecord, OperationRecord, QuotaRecord, InstanceRecord, ServerConfigRecord, ImageRecord, ImageAliasRecord, NetworkRecord, MigrationReportRecord];
