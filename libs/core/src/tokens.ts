/** Injection tokens shared by every context. */
export const BERTH_CONFIG = Symbol('BERTH_CONFIG');
export const LOGGER = Symbol('LOGGER');
export const DATABASE = Symbol('DATABASE');
