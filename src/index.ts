/**
 * switchyard as a library: the client SDK for acquirer and issuer hosts, and
 * the protocol constants a host needs. The switch itself runs as
 * `switchyard start`.
 */
export * from './client/index.js';
export { MTI, NETWORK_CODE, type Role } from './protocol/mti.js';
export { RC, type ResponseCode } from './protocol/rc.js';
export { signonSignedBytes } from './protocol/signon.js';
export { luhnValid, maskPan, withLuhnDigit } from './util/pan.js';
