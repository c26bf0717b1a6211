import { Query } from '@nestjs/cqrs';

/**
 * Asks who owns instance volumes: answered by the context that owns instances, as the names of
 * every instance (each has its root volume `containers/<name>` on the default pool).
 */
export class ListVolumeOwnersQuery extends Query<string[]> {}
