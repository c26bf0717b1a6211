import type { WarningView } from '../domain/warning.js';
import type { WarningRecord } from '../infrastructure/warning.entity.js';

/** A row as LXD's api.Warning: host warnings have no project, and a server that is not clustered is the member `none`. */
export function warningView(row: WarningRecord): WarningView {
  return {
    uuid: row.uuid,
    location: 'none',
    project: '',
    type: row.type,
    count: row.count,
    first_seen_at: row.firstSeenAt.toISOString(),
    last_seen_at: row.lastSeenAt.toISOString(),
    last_message: row.lastMessage,
    severity: row.severity,
    status: row.status,
    entity_url: row.entityUrl,
  };
}
