/**
 * Who uses a profile, as API paths (`/1.0/instances/web1`). The instances context provides the
 * real answer; until it exists, nothing can use a profile.
 */
export abstract class ProfileUsage {
  abstract usedBy(profile: string): Promise<string[]>;
  abstract usage(): Promise<Map<string, string[]>>;
}

export class NoProfileUsage extends ProfileUsage {
  async usedBy(): Promise<string[]> {
    return [];
  }

  async usage(): Promise<Map<string, string[]>> {
    return new Map();
  }
}
