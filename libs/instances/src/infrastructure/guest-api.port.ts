/**
 * The guest API (`/dev/lxd/sock`, LXD's devlxd) as the start of a container needs it: provided
 * by the context that serves it (libs/guest-api), optional here so that instances work without it.
 */
export abstract class GuestApiPort {
  /**
   * Makes sure the instance's socket is served and returns the host directory holding it, to
   * bind at /dev/lxd; undefined when `security.devlxd` (in the expanded config) turns it off.
   */
  abstract prepare(name: string, config: Readonly<Record<string, string>>): Promise<string | undefined>;

  /** The container is gone (stopped, or its start failed): its socket and directory go. */
  abstract release(name: string): Promise<void>;
}
