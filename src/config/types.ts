import type { ObjectOf } from './schema.js';
import type { SWITCH_SETTINGS } from './settings.js';

/**
 * The validated configuration's types, read off the declarations in
 * settings.ts (each setting's doc is there), so a type cannot drift from
 * what validation returns.
 */

type Fields = (typeof SWITCH_SETTINGS)['fields'];

export type SwitchConfig = ObjectOf<Fields>;
export type ListenerConfig = NonNullable<SwitchConfig['listen']['tcp']>;
/** PEM file paths, absolute after validation. */
export type TlsConfig = NonNullable<ListenerConfig['tls']>;
export type InstitutionConfig = SwitchConfig['institutions'][number];
export type StandInConfig = NonNullable<InstitutionConfig['standIn']>;
export type RouteConfig = SwitchConfig['routes'][number];
export type LimitsConfig = SwitchConfig['limits'];
export type LedgerConfig = SwitchConfig['ledger'];
export type LogLevel = SwitchConfig['log']['level'];
