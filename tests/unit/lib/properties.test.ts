/**
 * Hostile and broken input, by property: every settings field, the limits form and every protocol
 * message either accept a value that keeps the field's rule (and accept it again unchanged) or
 * refuse it with a message that says what is wrong. Nothing throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkLimits,
  MAX_PER_MINUTE,
  MAX_PER_MONTH,
  MAX_TOKENS_PER_MINUTE,
  PLANS,
  type LimitsInput,
} from '@/lib/limits/plans';
import { parseRequest, REQUEST_TYPES, type RequestOf, type RequestType } from '@/lib/protocol';
import {
  checkApiKey,
  checkBaseURL,
  checkMaxTokens,
  checkModel,
  checkPrompt,
  checkSettings,
  checkSystemPrompt,
  MAX_PROMPT_CHARS,
  MAX_SYSTEM_PROMPT_CHARS,
  MAX_TOKENS_LIMIT,
  parseHeaderLines,
  type Checked,
  type SettingsInput,
} from '@/lib/settings/validate';

const RUNS = { numRuns: 200 };

/** Long text near and over the size limits, built cheaply by repeating a short piece. */
const sized = (min: number, max: number) =>
  fc
    .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }), fc.integer({ min, max }))
    .map(([piece, n]) => piece.repeat(Math.ceil(n / piece.length)).slice(0, n));

const controlChars = fc.string({ unit: fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)) });

/** Strings a user (or a broken page) might send: unicode, control characters, number-like text, huge. */
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  controlChars,
  fc.constantFrom(
    '',
    ' ',
    '\n',
    '\t\r\n',
    '\u00a0',
    '\u200b',
    '\ufeff',
    '\u2028',
    'null',
    'undefined',
    'NaN',
    'Infinity',
    '-0',
    '+1',
    '1e3',
    '0x10',
    '４０９６',
    '١٢٣',
    '0004096',
    ' 42 ',
    '9'.repeat(400),
  ),
  fc.integer().map(String),
  fc.double().map(String),
  sized(MAX_SYSTEM_PROMPT_CHARS - 5, MAX_SYSTEM_PROMPT_CHARS + 5),
  sized(MAX_PROMPT_CHARS - 5, MAX_PROMPT_CHARS + 5),
);

const hostileNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    0.5,
    1e21,
    -1e21,
    Number.MAX_SAFE_INTEGER + 2,
    Number.MIN_VALUE,
    MAX_TOKENS_LIMIT,
    MAX_TOKENS_LIMIT + 1,
  ),
);

/** Lines that are nearly URLs, so the parser and the rules after it are both reached. */
const urlish = fc.oneof(
  hostileString,
  fc
    .tuple(
      fc.constantFrom(
        'http://',
        'https://',
        'HTTPS://',
        'ftp://',
        'javascript:',
        'data:',
        'file:///',
        '//',
        ' https://',
        '',
      ),
      fc.constantFrom(
        '127.0.0.1',
        'localhost:8080',
        '[::1]:9',
        'exämple.com',
        'a.b',
        'user:pw@x.com',
        'x.com:99999',
        '',
      ),
      fc.constantFrom('', '/', '//', '/v1/', '/a/./b/../', '/%2e%2e/', '/ü', '?q=1', '#top', '/a b', '\\x'),
      fc.string(),
    )
    .map((parts) => parts.join('')),
);

interface Field<I> {
  name: string;
  check: (input: I) => Checked<unknown>;
  input: fc.Arbitrary<I>;
  /** The rule every accepted value keeps. */
  invariant: (value: never) => void;
  /** A refusal says what it is about. */
  about: RegExp;
}

const GENERIC = /^(invalid|error|bad|wrong|not valid)\.?$/i;

const fields: Field<never>[] = [
  {
    name: 'checkBaseURL',
    check: checkBaseURL,
    input: urlish,
    invariant: (v: string) => {
      expect(v).toMatch(/^https?:\/\/[^/?#@\s]+(\/[^?#\s]*)?$/);
      expect(v.endsWith('/')).toBe(false);
      // Plain http only for this computer.
      if (v.startsWith('http:')) expect(new URL(v).hostname).toMatch(/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/);
    },
    about: /URL/,
  },
  {
    name: 'checkMaxTokens',
    check: checkMaxTokens,
    input: fc.oneof(hostileString, hostileNumber),
    invariant: (v: number) => {
      expect(Number.isSafeInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(1);
      expect(v).toBeLessThanOrEqual(MAX_TOKENS_LIMIT);
      expect(checkMaxTokens(String(v))).toEqual({ ok: true, value: v });
    },
    about: /answer length/,
  },
  {
    name: 'checkModel',
    check: checkModel,
    input: fc.oneof(
      hostileString,
      fc.constantFrom('claude-sonnet-4-6', ' claude-haiku-4-5 ', 'org/model@v1:beta', 'a'.repeat(201)),
    ),
    invariant: (v: string) => {
      expect(v).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$/);
    },
    about: /model/,
  },
  {
    name: 'checkSystemPrompt',
    check: checkSystemPrompt,
    input: hostileString,
    invariant: (v: string) => {
      expect(v.length).toBeLessThanOrEqual(MAX_SYSTEM_PROMPT_CHARS);
      expect(v).toBe(v.trim());
    },
    about: /system prompt/,
  },
  {
    name: 'checkApiKey',
    check: checkApiKey,
    input: fc.oneof(
      hostileString,
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 520 }),
    ),
    invariant: (v: string) => {
      expect(v).toMatch(/^[\x21-\x7e]{8,500}$/);
    },
    about: /key/,
  },
  {
    name: 'checkPrompt',
    check: checkPrompt,
    input: hostileString,
    invariant: (v: string) => {
      expect(v.length).toBeGreaterThan(0);
      expect(v.length).toBeLessThanOrEqual(MAX_PROMPT_CHARS);
      expect(v).toBe(v.trim());
    },
    about: /message/,
  },
] as unknown as Field<never>[];

function expectSpecific(message: unknown, about: RegExp): void {
  expect(typeof message).toBe('string');
  const m = message as string;
  expect(m.trim().length).toBeGreaterThan(10);
  expect(m).not.toMatch(GENERIC);
  expect(m).toMatch(about);
}

describe.each(fields)('$name, whatever is typed', ({ check, input, invariant, about }) => {
  it('accepts a value that keeps the field rule and accepts it again unchanged, or names the problem', () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(input, (raw) => {
        const r = check(raw);
        if (r.ok) {
          seen.accepted += 1;
          invariant(r.value as never);
          expect(check(r.value as never)).toEqual(r);
        } else {
          seen.refused += 1;
          expectSpecific(r.message, about);
        }
      }),
      RUNS,
    );
    // Both branches ran: the property checked accepted values and messages alike.
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});

describe('extra header lines', () => {
  const line = fc.oneof(
    hostileString,
    fc
      .tuple(
        fc.constantFrom('x-team', 'cf-aig-authorization', 'Authorization', 'x api', '__proto__', 'constructor', ''),
        fc.constantFrom(':', ': ', '=', ''),
        hostileString,
      )
      .map((p) => p.join('')),
  );
  it('gives headers fetch can send and reads them back the same, or says which line is wrong', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 5 }), (lines) => {
        const r = parseHeaderLines(lines.join('\n'));
        if (r.error !== null) {
          expect(r.error).toMatch(/^Line \d+: \S/);
          expect(r.headers).toEqual({});
          return;
        }
        // Every header the parser kept is one `fetch` takes, and none replaces Pace's own.
        expect(() => new Headers(r.headers)).not.toThrow();
        for (const name of Object.keys(r.headers))
          expect(['authorization', 'x-api-key', 'anthropic-version']).not.toContain(name.toLowerCase());
        const again = parseHeaderLines(
          Object.entries(r.headers)
            .map(([n, v]) => `${n}: ${v}`)
            .join('\n'),
        );
        expect(again).toEqual(r);
      }),
      RUNS,
    );
  });
  it('keeps every name it accepted, prototype keys included', () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const r = parseHeaderLines(`${name}: 1`);
      expect(r.error).toBeNull();
      expect(Object.entries(r.headers)).toEqual([[name, '1']]);
    }
  });
});

describe('checkSettings', () => {
  const input: fc.Arbitrary<SettingsInput> = fc.record(
    {
      model: fc.oneof(hostileString, hostileNumber, fc.constant('claude-sonnet-4-6')),
      maxTokens: fc.oneof(hostileString, hostileNumber, fc.integer({ min: 1, max: MAX_TOKENS_LIMIT })),
      systemPrompt: fc.oneof(hostileString, hostileNumber),
      baseURL: fc.oneof(urlish, hostileNumber, fc.constant('')),
      combineWaiting: fc.boolean(),
      extraHeaders: fc.oneof(hostileString, fc.constant('x-team: pace')),
    },
    { requiredKeys: ['model', 'maxTokens', 'systemPrompt', 'baseURL'] },
  );
  it('returns settings that pass each field check, or a message for each bad field', () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(input, (raw) => {
        const r = checkSettings(raw);
        seen[r.ok ? 'accepted' : 'refused'] += 1;
        if (r.ok) {
          expect(checkModel(r.value.model)).toEqual({ ok: true, value: r.value.model });
          expect(checkMaxTokens(r.value.maxTokens)).toEqual({ ok: true, value: r.value.maxTokens });
          expect(checkSystemPrompt(r.value.systemPrompt)).toEqual({ ok: true, value: r.value.systemPrompt });
          expect(checkBaseURL(r.value.baseURL)).toEqual({ ok: true, value: r.value.baseURL });
          expect(parseHeaderLines(r.value.extraHeaders).error).toBeNull();
          expect(checkSettings(r.value)).toEqual(r);
        } else {
          const about: Record<string, RegExp> = {
            model: /model/,
            maxTokens: /answer length/,
            systemPrompt: /system prompt/,
            baseURL: /URL/,
            extraHeaders: /^Line \d+:/,
          };
          expect(Object.keys(r.errors).length).toBeGreaterThan(0);
          for (const [field, message] of Object.entries(r.errors)) expectSpecific(message, about[field]!);
        }
      }),
      RUNS,
    );
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});

describe('checkLimits', () => {
  const figure = fc.oneof(
    hostileString,
    hostileNumber,
    fc.integer({ min: 1, max: MAX_PER_MONTH }),
    fc.integer({ min: 1, max: 200 }).map(String),
  );
  const input: fc.Arbitrary<LimitsInput> = fc.record({
    plan: fc.oneof(
      fc.constantFrom('free', 'paid', 'custom', 'Custom', ' free', '__proto__', 'toString'),
      hostileString,
    ),
    perMinute: figure,
    perMonth: figure,
    smooth: fc.boolean(),
    monthStart: fc.oneof(fc.constantFrom('utc', 'local', 'UTC', ''), hostileString),
    inputPerMinute: fc.oneof(figure, fc.constantFrom(null, undefined, '')),
    outputPerMinute: fc.oneof(figure, fc.constantFrom(null, undefined, '')),
  });
  const about: Record<string, RegExp> = {
    plan: /Free, Paid, Start, Build, Scale or Custom/,
    monthStart: /month starts/,
    perMinute: /^Requests per minute|^Enter requests per minute/,
    perMonth: /per month|month's limit/,
    inputPerMinute: /^Input tokens per minute|^Enter input tokens per minute/,
    outputPerMinute: /^Output tokens per minute|^Enter output tokens per minute/,
  };
  it('returns limits that keep their rules and are accepted again unchanged, or a message for each bad field', () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(input, (raw) => {
        const r = checkLimits(raw);
        seen[r.ok ? 'accepted' : 'refused'] += 1;
        if (r.ok) {
          const v = r.value;
          expect(['free', 'paid', 'custom']).toContain(v.plan);
          expect(['utc', 'local']).toContain(v.monthStart);
          expect(Number.isSafeInteger(v.perMinute) && Number.isSafeInteger(v.perMonth)).toBe(true);
          expect(v.perMinute).toBeGreaterThanOrEqual(1);
          expect(v.perMinute).toBeLessThanOrEqual(MAX_PER_MINUTE);
          expect(v.perMonth).toBeGreaterThanOrEqual(v.perMinute);
          expect(v.perMonth).toBeLessThanOrEqual(MAX_PER_MONTH);
          if (v.plan !== 'custom')
            expect({ perMinute: v.perMinute, perMonth: v.perMonth }).toEqual({
              perMinute: PLANS[v.plan].perMinute,
              perMonth: PLANS[v.plan].perMonth,
            });
          for (const tokens of [v.inputPerMinute, v.outputPerMinute]) {
            if (tokens !== undefined)
              expect(Number.isSafeInteger(tokens) && tokens! >= 1 && tokens! <= MAX_TOKENS_PER_MINUTE).toBe(true);
          }
          expect(checkLimits(v)).toEqual(r);
        } else {
          expect(Object.keys(r.errors).length).toBeGreaterThan(0);
          for (const [field, message] of Object.entries(r.errors)) expectSpecific(message, about[field]!);
        }
      }),
      // Random inputs pass every field's check only now and then (one CI run drew none): these two always go first.
      {
        ...RUNS,
        examples: [
          [{ plan: 'free', perMinute: 10, perMonth: 5_000, smooth: false, monthStart: 'utc' }],
          [
            {
              plan: 'custom',
              perMinute: '20',
              perMonth: '900',
              smooth: true,
              monthStart: 'local',
              inputPerMinute: '',
              outputPerMinute: 30_000,
            },
          ],
        ],
      },
    );
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});

/** One well-formed payload per request type; a new request type without one is a type error here. */
const SAMPLES: { [K in RequestType]: RequestOf<K> } = {
  'chat.send': { conversationId: null, text: 'hello' },
  'chat.prepare': { conversationId: null },
  'chat.preview': { conversationId: null, text: 'hello' },
  'conversation.setOptions': { conversationId: 'c1', thinking: 'low' },
  'chat.stop': { messageId: 'm1' },
  'chat.retry': { messageId: 'm1' },
  'conversation.rename': { conversationId: 'c1', title: 'A new name' },
  'conversation.delete': { conversationId: 'c1' },
  'conversation.deleteAll': {},
  'conversation.chooseModel': { conversationId: 'c1', model: 'claude-haiku-4-5' },
  'chatPrefs.save': { keepDays: 30, theme: 'dark' },
  'key.status': {},
  'key.test': { key: 'sk-ant-test-key', baseURL: 'http://127.0.0.1:1' },
  'key.save': { key: 'sk-ant-test-key', remember: 'device', passphrase: null },
  'key.unlock': { passphrase: 'correct horse' },
  'key.remove': {},
  'queue.clear': {},
  'queue.tryNow': {},
  'cache.clear': {},
  'limits.save': { plan: 'custom', perMinute: 5, perMonth: '100', smooth: false, monthStart: 'utc' },
  'limits.useLearned': {},
  'settings.save': {
    settings: {
      model: 'claude-sonnet-4-5',
      maxTokens: '4096',
      systemPrompt: '',
      baseURL: '',
      combineWaiting: false,
      extraHeaders: '',
      promptCache: '5m',
    },
    confirmOrigin: false,
  },
  'usagePrefs.save': {
    cacheHours: '24',
    retentionDays: 365,
    alerts: { at80: true, at95: true, at100: false, refused: true },
  },
  'key.confirmOrigin': { origin: 'https://gateway.example' },
  'batchPrefs.save': { sendLater: true, gatherSeconds: '120', firstPollSeconds: 60, maxPollSeconds: '600' },
  'gateway.budget': {},
  'budget.save': { monthlyUsd: '20', dailyUsd: '', whenReached: 'pause', unknownPriceUsd: '', badge: 'requests' },
  'templates.save': { templates: [{ id: 'summarize', title: 'Summarize', prompt: 'Summarize this.' }] },
  'page.read': {},
  'sync.devices': {},
  'sync.rename': { name: 'Laptop' },
  'sync.forget': { id: 'device-1' },
  'sync.settings': { enabled: false },
  'settings.export': {},
  'settings.import': { text: '{}' },
};

const fieldValue = fc.oneof(
  fc.anything(),
  hostileString,
  hostileNumber,
  fc.constantFrom(null, undefined, true, [], {}, '', 'x'.repeat(101)),
);

describe.each(REQUEST_TYPES)('parseRequest for %s', (type) => {
  const sample = SAMPLES[type] as Record<string, unknown>;
  function expectAnswered(r: ReturnType<typeof parseRequest>, id: number): void {
    if (r.ok) {
      expect(r.id).toBe(id);
      expect(r.request.type).toBe(type);
      return;
    }
    expect(r.id).toBe(id);
    expect(r.error.code).toBe('bad_message');
    expect(r.error.message.startsWith(`${type}: `)).toBe(true);
    expect(r.error.message.length).toBeGreaterThan(type.length + 10);
  }

  it('accepts the real payload as it is', () => {
    expect(parseRequest({ kind: 'request', id: 1, type, payload: sample })).toEqual({
      ok: true,
      id: 1,
      request: { type, payload: sample },
    });
  });

  it('answers any payload, naming the request type when it refuses', () => {
    fc.assert(
      fc.property(fc.integer(), fc.anything(), (id, payload) =>
        expectAnswered(parseRequest({ kind: 'request', id, type, payload }), id),
      ),
      RUNS,
    );
  });

  it('answers the real payload with one field changed, removed or added; what it accepts has the declared types', () => {
    const keys = Object.keys(sample);
    const mutated = fc.oneof(
      keys.length > 0
        ? fc.tuple(fc.constantFrom(...keys), fieldValue).map(([k, v]) => ({ ...sample, [k]: v }))
        : fc.constant(sample),
      keys.length > 0
        ? fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(sample).filter(([n]) => n !== k)))
        : fc.constant(sample),
      fc.tuple(fc.string(), fieldValue).map(([k, v]) => ({ ...sample, [k]: v })),
    );
    fc.assert(
      fc.property(mutated, (payload) => {
        const r = parseRequest({ kind: 'request', id: 9, type, payload });
        expectAnswered(r, 9);
        if (r.ok) {
          // Only the declared fields come through, each of the sample's type (or null where the sample allows).
          const out = r.request.payload as Record<string, unknown>;
          expect(Object.keys(out).sort()).toEqual(keys.sort());
          for (const k of keys) {
            const want = typeof sample[k];
            const got = out[k] === null ? 'object' : typeof out[k];
            if (
              [
                'perMinute',
                'perMonth',
                'cacheHours',
                'retentionDays',
                'monthlyUsd',
                'dailyUsd',
                'unknownPriceUsd',
                'gatherSeconds',
                'firstPollSeconds',
                'maxPollSeconds',
                'keepDays',
              ].includes(k)
            )
              expect(['string', 'number']).toContain(typeof out[k]);
            // A field the sample leaves null may be a string; a nested object stays an object.
            else if (out[k] !== null) expect(got).toBe(want === 'object' && sample[k] === null ? 'string' : want);
          }
        }
      }),
      RUNS,
    );
  });
});
