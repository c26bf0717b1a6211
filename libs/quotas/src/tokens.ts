/** Injection token of the host's HostCapacity (read once at boot). */
export const HOST_CAPACITY = Symbol('HOST_CAPACITY');
