export { GuestApiModule } from './guest-api.module.js';
