/**
 * The vocabulary the settings are declared in (settings.ts): each setting is a
 * value built here that carries its kind, bounds, unit, default or presence,
 * and one line of doc. Validation (validate.ts), the defaults (defaults.ts),
 * the config types (types.ts) and the README's table (config-table.ts) are
 * all read off these values, so a setting is written down once.
 *
 * No schema library: the problems must keep their exact wording, order and
 * JSON paths (an operator fixes the file in one pass, the tests pin every
 * message), which a library's own messages and issue order would not give
 * without rewriting most of them.
 */

export type Unit = 'ms' | 'bytes' | 'minor units';

/** Absent means: a problem ("is required"), left out of the result, or the declared default. */
export type Presence = 'required' | 'optional' | 'defaulted';

type Json = Readonly<Record<string, unknown>>;

/** A problem with a string value, or undefined; `root` is the raw top level (for cross references). */
export type StringCheck = (text: string, root: Json) => string | undefined;

/** Problems are added relative to the rule's object or array: `add('ca', ...)`, `add('[2].id', ...)`. */
export type AddProblem = (subPath: string, message: string) => void;

/** Runs after an object's fields: `value` holds the valid fields only, `raw` every field as given. */
export type ObjectRule = (value: Json, raw: Json, add: AddProblem) => void;

/** Runs after an array's items: `items[i]` is undefined where item i had problems. */
export type ArrayRule = (items: readonly unknown[], raw: readonly unknown[], add: AddProblem) => void;

export type Spec =
  | {
      readonly kind: 'integer';
      readonly min: number;
      readonly max: number;
      /** The maximum in human terms, e.g. "(1 day)", appended to range problems. */
      readonly maxNote: string;
      readonly unit: Unit | undefined;
    }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'string'; readonly check: StringCheck | undefined; readonly format: string }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** A path resolved against the config file's folder; `file`: it must be a readable regular file now. */
  | { readonly kind: 'path'; readonly file: boolean }
  | { readonly kind: 'object'; readonly fields: Fields; readonly rule: ObjectRule | undefined }
  | { readonly kind: 'array'; readonly item: Setting; readonly rule: ArrayRule | undefined };

export interface Setting<T = unknown, P extends Presence = Presence> {
  readonly spec: Spec;
  readonly presence: P;
  /** The value used when the key is absent (presence "defaulted"). */
  readonly default: unknown;
  /** Replaces "is required" when the hint helps, e.g. what a good value looks like. */
  readonly requiredMessage: string | undefined;
  /** One line for the README's config table. */
  readonly doc: string;
  /** Not part of the contract's contract (an implementation setting). */
  readonly internal: boolean;
  /** Type level only: the validated value's type. Never set. */
  readonly __type?: T;
}

export type Fields = Readonly<Record<string, Setting>>;

export type TypeOf<S> = S extends Setting<infer T> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** A validated object: optional settings are optional keys, the rest always present. */
export type ObjectOf<F extends Fields> = Simplify<
  { readonly [K in keyof F as F[K] extends Setting<unknown, 'optional'> ? never : K]: TypeOf<F[K]> } & {
    readonly [K in keyof F as F[K] extends Setting<unknown, 'optional'> ? K : never]?: TypeOf<F[K]>;
  }
>;

/** An object setting also carries its fields at the top, for the types (DefaultsOf) and the table. */
export type ObjectSetting<F extends Fields, P extends Presence = Presence> = Setting<ObjectOf<F>, P> & {
  readonly fields: F;
};

/** The defaults of an object setting: its defaulted keys, nested objects as their own defaults. */
export type DefaultsOf<S> = S extends { readonly fields: infer F extends Fields }
  ? { readonly [K in keyof F as F[K] extends Setting<unknown, 'defaulted'> ? K : never]: DefaultsOf<F[K]> }
  : TypeOf<S>;

interface Options<T> {
  readonly doc: string;
  readonly internal?: boolean;
  /** Absent is fine: the key is left out of the result. */
  readonly optional?: true;
  readonly default?: T;
  readonly requiredMessage?: string;
}

type PresenceOf<O> = O extends { optional: true }
  ? 'optional'
  : O extends { default: unknown }
    ? 'defaulted'
    : 'required';

function setting<T, O extends Options<unknown>>(spec: Spec, o: O): Setting<T, PresenceOf<O>> {
  const presence: Presence = o.optional === true ? 'optional' : 'default' in o ? 'defaulted' : 'required';
  return {
    spec,
    presence: presence as PresenceOf<O>,
    default: o.default,
    requiredMessage: o.requiredMessage,
    doc: o.doc,
    internal: o.internal === true,
  };
}

export function integer<const O extends Options<number>>(
  o: O & { readonly min: number; readonly max: number; readonly maxNote?: string; readonly unit?: Unit },
): Setting<number, PresenceOf<O>> {
  return setting({ kind: 'integer', min: o.min, max: o.max, maxNote: o.maxNote ?? '', unit: o.unit }, o);
}

export function boolean<const O extends Options<boolean>>(o: O): Setting<boolean, PresenceOf<O>> {
  return setting({ kind: 'boolean' }, o);
}

/** `format` says in a few words what a valid string looks like (the table's "values" column). */
export function string<const O extends Options<string>>(
  o: O & { readonly format: string; readonly check?: StringCheck },
): Setting<string, PresenceOf<O>> {
  return setting({ kind: 'string', check: o.check, format: o.format }, o);
}

export function oneOf<const V extends string, const O extends Options<V>>(
  values: readonly V[],
  o: O,
): Setting<V, PresenceOf<O>> {
  return setting({ kind: 'enum', values }, o);
}

/** A folder or file path; relative paths are resolved against the config file's folder. */
export function path<const O extends Options<string>>(o: O): Setting<string, PresenceOf<O>> {
  return setting({ kind: 'path', file: false }, o);
}

/** A file that must exist and be readable at validation, so a typo fails at start, not at first use. */
export function readableFile<const O extends Options<string>>(o: O): Setting<string, PresenceOf<O>> {
  return setting({ kind: 'path', file: true }, o);
}

/** An object whose keys are exactly `fields` (any other key is a problem). Default `{}` validates as `{}`. */
export function object<const F extends Fields, const O extends Options<Record<string, never>>>(
  fields: F,
  o: O & { readonly rule?: ObjectRule },
): ObjectSetting<F, PresenceOf<O>> {
  return { ...setting<ObjectOf<F>, O>({ kind: 'object', fields, rule: o.rule }, o), fields };
}

export function array<const I extends Setting, const O extends Options<readonly never[]>>(
  item: I,
  o: O & { readonly rule?: ArrayRule },
): Setting<readonly TypeOf<I>[], PresenceOf<O>> {
  return setting({ kind: 'array', item, rule: o.rule }, o);
}
