import type { DefaultsOf, Setting } from './schema.js';
import { SWITCH_SETTINGS } from './settings.js';

/**
 * Built-in defaults (docs/protocol.md sections 1-9), read off the declared
 * settings: every defaulted key, objects nested. A config file is merged over
 * these. `switchId`, `admin.token`, institutions and routes have no sensible
 * default and must be configured.
 */
export const DEFAULTS = deepFreeze(defaultsOf(SWITCH_SETTINGS)) as DefaultsOf<typeof SWITCH_SETTINGS>;

function defaultsOf(setting: Setting): unknown {
  if (setting.spec.kind !== 'object') return setting.default;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(setting.spec.fields)) {
    if (field.presence === 'defaulted') out[key] = defaultsOf(field);
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
