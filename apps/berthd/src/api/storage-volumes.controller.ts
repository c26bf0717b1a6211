import { Controller, Get, Param, Query } from '@nestjs/common';
import { NotFoundError } from '#core';
import { OrphanVolumes, type PoolVolume } from '#instances';
import { sync } from '../http/envelope.js';
import { recursion } from '../http/params.js';

const url = (v: PoolVolume) => `/1.0/storage-pools/default/volumes/${v.type}/${v.name}`;

/**
 * GET /1.0/storage-pools/default/volumes: the default pool's volumes as LXD lists them; an
 * orphan (a volume no instance owns, reported at daemon start and never deleted) has an empty
 * `used_by`, and `filter=orphan` lists only those (Berth's own).
 */
@Controller('1.0/storage-pools')
export class StorageVolumesController {
  constructor(private readonly volumes: OrphanVolumes) {}

  @Get(':pool/volumes')
  async list(@Param('pool') pool: string, @Query('recursion') r?: string, @Query('filter') filter?: string) {
    if (pool !== 'default') throw new StoragePoolMissingError(pool);
    const all = (await this.volumes.list()).filter((v) => filter !== 'orphan' || v.orphan);
    if (recursion(r) === 0) return sync(all.map(url));
    return sync(
      all.map((v) => ({
        name: v.name,
        type: v.type,
        content_type: 'filesystem',
        description: '',
        config: {},
        used_by: v.usedBy,
        location: 'none',
      })),
    );
  }
}

class StoragePoolMissingError extends NotFoundError {
  constructor(pool: string) {
    super(`Storage pool not found: "${pool}"`);
  }
}
