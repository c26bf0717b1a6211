/**
 * The limits the `default` profile is given on a daemon's first start, so that no instance runs
 * unbounded unless someone removes them.
 *
 * - `limits.processes`: a Debian system container serving a site (systemd and its daemons ~30
 *   tasks, Apache's event MPM at MaxRequestWorkers 150 ~170 threads, MariaDB at max_connections
 *   151 ~180 threads, PHP-FPM, cron jobs and ssh sessions ~60) peaks near 450 tasks: 2000 is four
 *   times that, and on a host with the traditional pid_max of 32768 eight such guests fit in
 *   half the pid table.
 * - `limits.memory`: LXD's default size of a virtual machine, enough for that stack at its
 *   defaults (InnoDB's buffer pool is 128MiB); instances that need more say so.
 */
export const DEFAULT_PROFILE_LIMITS: Readonly<Record<string, string>> = {
  'limits.processes': '2000',
  'limits.memory': '1GiB',
};
