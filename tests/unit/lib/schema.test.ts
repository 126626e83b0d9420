import { describe, expect, expectTypeOf, it } from 'vitest';
import * as z from '@/lib/schema';
import type { RequestOf } from '@/lib/protocol';

const fails = (s: z.Schema<unknown>, input: unknown) => {
  const r = s.safeParse(input);
  return r.success ? null : r.error.issues[0]!.message;
};

describe('schema', () => {
  it('fails each kind with the message it was given', () => {
    expect(fails(z.string({ error: 'a string' }), 1)).toBe('a string');
    expect(fails(z.boolean({ error: 'a boolean' }), 'true')).toBe('a boolean');
    expect(fails(z.enum(['a', 'b'], { error: 'a or b' }), 'c')).toBe('a or b');
    expect(fails(z.union([z.string(), z.null()], { error: 'text or null' }), 0)).toBe('text or null');
    expect(
      fails(
        z.custom<number>((v) => typeof v === 'number', { error: 'a number' }),
        '1',
      ),
    ).toBe('a number');
    expect(fails(z.object({}, { error: 'an object' }), [])).toBe('an object');
    expect(fails(z.array(z.string(), { error: 'a list' }), {})).toBe('a list');
    expect(z.union([z.string(), z.null()]).safeParse(null)).toEqual({ success: true, data: null });
  });

  it('runs checks in order after the type, on strings and lists', () => {
    const id = z
      .string({ error: 'id' })
      .check(z.minLength(1, { error: 'too short' }), z.maxLength(3, { error: 'too long' }));
    expect(fails(id, '')).toBe('too short');
    expect(fails(id, 'abcd')).toBe('too long');
    expect(fails(id, 5)).toBe('id');
    expect(id.safeParse('ab')).toEqual({ success: true, data: 'ab' });
    expect(fails(z.array(z.string()).check(z.maxLength(1, { error: 'one at most' })), ['a', 'b'])).toBe('one at most');
  });

  it("reports an object's first failing field in declaration order, and the failing element of a list", () => {
    const s = z.object({ a: z.string({ error: 'a' }), b: z.string({ error: 'b' }) });
    expect(fails(s, { b: 1, a: 1 })).toBe('a');
    expect(fails(s, { a: 'x' })).toBe('b');
    expect(fails(z.array(z.object({ t: z.string({ error: 't' }) }, { error: 'row' })), [{ t: 'x' }, 'y'])).toBe('row');
  });

  it('keeps declared keys only, own ones, and leaves out an absent optional one', () => {
    const s = z.object({
      a: z.nullable(z.string()),
      b: z.optional(z.boolean()),
      c: z.optional(z.nullable(z.string())),
    });
    const input = Object.assign(Object.create({ b: true }) as object, { a: null, c: null, extra: 1 });
    expect(s.safeParse(input)).toEqual({ success: true, data: { a: null, c: null } });
    expect(Object.keys((s.safeParse({ a: 'x' }) as { data: object }).data)).toEqual(['a']);
    expect(s.safeParse({ a: 'x', b: undefined })).toEqual({ success: true, data: { a: 'x', b: undefined } });
  });

  it('checks numbers and literals, one value or a list', () => {
    expect(fails(z.number(), '1')).toBe('expected a number');
    expect(z.number().safeParse(0)).toEqual({ success: true, data: 0 });
    expect(fails(z.literal('a'), 'b')).toBe('expected "a"');
    expect(fails(z.literal([7, null]), 8)).toBe('expected 7 or null');
    expect(fails(z.literal(true, { error: 'yes only' }), false)).toBe('yes only');
    expect(z.literal([7, null]).safeParse(null)).toEqual({ success: true, data: null });
    expectTypeOf(z.literal([7, 30, null]).safeParse(7)).toEqualTypeOf<
      | { success: true; data: 7 | 30 | null }
      | { success: false; error: { issues: { message: string; path: PropertyKey[] }[] } }
    >();
  });

  it('names where a nested failure is, through objects and lists', () => {
    const s = z.object({ a: z.object({ rows: z.array(z.object({ n: z.number() })) }) });
    const r = s.safeParse({ a: { rows: [{ n: 1 }, { n: 'x' }] } });
    expect(r).toEqual({
      success: false,
      error: { issues: [{ message: 'expected a number', path: ['a', 'rows', 1, 'n'] }] },
    });
    expect(z.string().safeParse(1)).toEqual({
      success: false,
      error: { issues: [{ message: 'expected a string', path: [] }] },
    });
  });

  it('infers the payload types, optional keys included', () => {
    expectTypeOf<RequestOf<'chat.send'>>().toEqualTypeOf<{
      conversationId: string | null;
      text: string;
      model?: string | null | undefined;
      later?: boolean | undefined;
      attachments?:
        | { name: string; mediaType: string; data: string; width?: number | undefined; height?: number | undefined }[]
        | undefined;
      thinking?: string | undefined;
      webSearch?: boolean | undefined;
    }>();
    expectTypeOf<RequestOf<'key.save'>>().toEqualTypeOf<{
      key: string;
      remember: 'device' | 'session';
      passphrase: string | null;
    }>();
    expectTypeOf<RequestOf<'templates.save'>['templates'][number]>().toEqualTypeOf<{
      id?: string | null | undefined;
      title: string;
      prompt: string;
    }>();
    expectTypeOf<RequestOf<'settings.save'>['settings']['extraHeaders']>().toEqualTypeOf<string | null>();
  });
});
