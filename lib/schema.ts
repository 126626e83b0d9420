/**
 * Runtime checks whose TypeScript type is inferred from them, for the port's payloads
 * (lib/protocol.ts) and replies (lib/messaging/replies.ts): the part of zod/mini's API Pace uses,
 * with the same names, so the protocol reads as it did. zod/mini was 20 KB of the worker's script
 * for these checks; this is 1 KB.
 *
 * Each schema fails with the one message it was given (`{ error }`); an object drops the keys it
 * does not declare and fails with its first failing field's message, in declaration order, and the
 * issue's `path` names that field (and the list index) from the top.
 */
import { isObject } from './is-object';

type Outcome<T> = { ok: true; value: T } | { ok: false; message: string; path?: PropertyKey[] };
type Params = { error: string };

export interface Check<T> {
  test: (value: T) => boolean;
  message: string;
}

export interface Schema<T> {
  readonly run: (input: unknown) => Outcome<T>;
  /** Set by `optional`: an object may leave the key out. */
  readonly optional: boolean;
  safeParse(
    input: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: { message: string; path: PropertyKey[] }[] } };
  /** The same schema, which also fails with a check's message when its value does not pass it. */
  check(...checks: Check<T>[]): Schema<T>;
}

type Optional<T> = Schema<T | undefined> & { readonly optional: true };
type Infer<S> = S extends Schema<infer T> ? T : never;
export type { Infer as infer };

function schema<T>(run: (input: unknown) => Outcome<T>, optional = false): Schema<T> {
  return {
    run,
    optional,
    safeParse(input) {
      const r = run(input);
      return r.ok
        ? { success: true, data: r.value }
        : { success: false, error: { issues: [{ message: r.message, path: r.path ?? [] }] } };
    },
    check: (...checks) =>
      schema((input) => {
        const r = run(input);
        const failed = r.ok ? checks.find((c) => !c.test(r.value)) : undefined;
        return failed ? { ok: false, message: failed.message } : r;
      }, optional),
  };
}

const pass = <T>(value: T): Outcome<T> => ({ ok: true, value });
const when = <T>(test: (input: unknown) => boolean, message: string): Schema<T> =>
  schema((input) => (test(input) ? pass(input as T) : { ok: false, message }));

export const string = (params?: Params): Schema<string> =>
  when((v) => typeof v === 'string', params?.error ?? 'expected a string');
export const boolean = (params?: Params): Schema<boolean> =>
  when((v) => typeof v === 'boolean', params?.error ?? 'expected true or false');
export const number = (params?: Params): Schema<number> =>
  when((v) => typeof v === 'number', params?.error ?? 'expected a number');
const nullValue = (params?: Params): Schema<null> => when((v) => v === null, params?.error ?? 'expected null');
export { nullValue as null };

/** Any value `test` accepts, typed as T. */
export const custom = <T>(test: (input: unknown) => boolean, params?: Params): Schema<T> =>
  when(test, params?.error ?? 'not valid');

function oneOf<const V extends readonly string[]>(values: V, params?: Params): Schema<V[number]> {
  return when((v) => values.includes(v as string), params?.error ?? `expected one of ${values.join(', ')}`);
}
export { oneOf as enum };

/** The value, or one of the values, given (compared with ===). */
export function literal<const V extends string | number | boolean | null>(
  values: V | readonly V[],
  params?: Params,
): Schema<V> {
  const list: readonly unknown[] = Array.isArray(values) ? values : [values];
  return when((v) => list.includes(v), params?.error ?? `expected ${list.map((v) => JSON.stringify(v)).join(' or ')}`);
}

/** The first of `options` that accepts the value. */
export function union<const S extends readonly Schema<unknown>[]>(
  options: S,
  params?: Params,
): Schema<Infer<S[number]>> {
  return schema((input) => {
    for (const option of options) {
      const r = option.run(input);
      if (r.ok) return r as Outcome<Infer<S[number]>>;
    }
    return { ok: false, message: params?.error ?? 'not any of the allowed kinds' };
  });
}

export const nullable = <T>(inner: Schema<T>): Schema<T | null> =>
  schema((input) => (input === null ? pass(null) : inner.run(input)));

export const optional = <T>(inner: Schema<T>): Optional<T> =>
  schema<T | undefined>((input) => (input === undefined ? pass(undefined) : inner.run(input)), true) as Optional<T>;

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};
type Flat<T> = { [K in keyof T]: T[K] } & {};

export function object<S extends Shape>(shape: S, params?: Params): Schema<Flat<ObjectOf<S>>> {
  return schema((input) => {
    if (!isObject(input)) return { ok: false, message: params?.error ?? 'expected an object' };
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(shape)) {
      // Own keys only: what a prototype carries was not sent.
      const present = Object.hasOwn(input, key);
      const r = field.run(present ? input[key] : undefined);
      if (!r.ok) return { ...r, path: [key, ...(r.path ?? [])] };
      if (present || r.value !== undefined) out[key] = r.value;
    }
    return pass(out as Flat<ObjectOf<S>>);
  });
}

export function array<T>(item: Schema<T>, params?: Params): Schema<T[]> {
  return schema((input) => {
    if (!Array.isArray(input)) return { ok: false, message: params?.error ?? 'expected a list' };
    const out: T[] = [];
    for (const [index, element] of input.entries()) {
      const r = item.run(element);
      if (!r.ok) return { ...r, path: [index, ...(r.path ?? [])] };
      out.push(r.value);
    }
    return pass(out);
  });
}

export const minLength = (min: number, params: Params): Check<{ length: number }> => ({
  test: (v) => v.length >= min,
  message: params.error,
});
export const maxLength = (max: number, params: Params): Check<{ length: number }> => ({
  test: (v) => v.length <= max,
  message: params.error,
});
