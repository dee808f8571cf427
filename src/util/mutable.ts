/** T with its readonly properties writable: for the one place that builds or copies a T field by field. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
