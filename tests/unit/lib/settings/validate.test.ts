import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkApiKey,
  checkBaseURL,
  checkMaxTokens,
  checkModel,
  checkPrompt,
  checkSettings,
  checkStoredSettings,
  checkWebSearchMaxUses,
  checkSystemPrompt,
  DEFAULT_BASE_URL,
  DEFAULT_SETTINGS,
  maskHeaderLines,
  parseHeaderLines,
  MAX_PROMPT_CHARS,
} from '@/lib/settings/validate';

const message = (r: { ok: boolean; message?: string }) => (r.ok ? null : r.message);

describe('base URL', () => {
  it('keeps http and https, without a trailing slash', () => {
    expect(checkBaseURL('https://api.anthropic.com/')).toEqual({ ok: true, value: 'https://api.anthropic.com' });
    expect(checkBaseURL(' http://127.0.0.1:8787 ')).toEqual({ ok: true, value: 'http://127.0.0.1:8787' });
    expect(checkBaseURL('https://gw.example.com/anthropic/')).toEqual({
      ok: true,
      value: 'https://gw.example.com/anthropic',
    });
    expect(checkBaseURL('')).toEqual({ ok: true, value: DEFAULT_BASE_URL });
  });
  it('refuses other schemes by name', () => {
    expect(message(checkBaseURL('javascript:alert(1)'))).toBe(
      'Only http and https base URLs are allowed, not javascript:',
    );
    expect(message(checkBaseURL('file:///etc/passwd'))).toContain('not file:');
    expect(message(checkBaseURL('data:text/html,x'))).toContain('not data:');
  });
  it('takes http only for this computer: the key would cross the network in clear text', () => {
    for (const local of [
      'http://localhost:4000',
      'http://127.0.0.1',
      'http://127.12.0.9:8080/v1',
      'http://[::1]:9',
      'http://127.1:80',
    ]) {
      expect(checkBaseURL(local).ok).toBe(true);
    }
    for (const remote of [
      'http://litellm.example.com',
      'http://10.0.0.5:4000',
      'http://192.168.1.2',
      'http://[::2]',
      'http://localhost.example.com',
      'http://128.0.0.1',
    ]) {
      expect(message(checkBaseURL(remote))).toContain('would send your API key in clear text: use https://');
    }
    expect(message(checkBaseURL('http://gw.example.com:4000/anthropic'))).toBe(
      'An http:// base URL would send your API key in clear text: use https://gw.example.com:4000. Plain http is allowed only for this computer (localhost, 127.0.0.1, [::1]).',
    );
    expect(checkBaseURL('https://10.0.0.5:4000')).toEqual({ ok: true, value: 'https://10.0.0.5:4000' });
  });
  it('refuses non-URLs, credentials and queries', () => {
    expect(message(checkBaseURL('api.anthropic.com'))).toContain('is not a URL');
    expect(message(checkBaseURL('https://user:pw@x.com'))).toContain('user name or password');
    expect(message(checkBaseURL('https://x.com/?a=1'))).toContain('query');
  });
  it('any input is either an http(s) URL or a message', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.webUrl(), fc.constantFrom('javascript:', 'ftp://a', 'https://', '//x')),
        (s) => {
          const r = checkBaseURL(s);
          if (r.ok) expect(r.value).toMatch(/^https?:\/\//);
          else expect(r.message.length).toBeGreaterThan(10);
        },
      ),
    );
  });
});

describe('maximum answer length', () => {
  it('takes whole numbers from 1', () => {
    expect(checkMaxTokens('4096')).toEqual({ ok: true, value: 4096 });
    expect(checkMaxTokens(1)).toEqual({ ok: true, value: 1 });
  });
  it('gives a specific message for each bad value', () => {
    expect(message(checkMaxTokens('-3'))).toBe('Maximum answer length must be at least 1 token (got -3).');
    expect(message(checkMaxTokens('0'))).toContain('at least 1');
    expect(message(checkMaxTokens('2.5'))).toContain('whole number');
    expect(message(checkMaxTokens('lots'))).toContain('whole number');
    expect(message(checkMaxTokens(''))).toContain('Enter a maximum');
    expect(message(checkMaxTokens('999999'))).toContain('at most 128,000');
  });
});

describe('API key, model, system prompt, prompt', () => {
  it('API key', () => {
    expect(checkApiKey('  sk-ant-abc123456  ')).toEqual({ ok: true, value: 'sk-ant-abc123456' });
    expect(message(checkApiKey(''))).toContain('empty');
    expect(message(checkApiKey('sk-ant abc'))).toContain('spaces or line breaks');
    expect(message(checkApiKey('abc'))).toContain('too short');
    expect(message(checkApiKey('x'.repeat(501)))).toContain('too long');
    expect(message(checkApiKey('sk-ant-ébcdefgh'))).toContain('characters');
  });
  it('model', () => {
    expect(checkModel('claude-sonnet-4-6')).toEqual({ ok: true, value: 'claude-sonnet-4-6' });
    expect(message(checkModel(''))).toBe('Pick a model.');
    expect(message(checkModel('<script>'))).toContain('is not a model id');
  });
  it('system prompt', () => {
    expect(checkSystemPrompt(' be brief ')).toEqual({ ok: true, value: 'be brief' });
    expect(message(checkSystemPrompt('x'.repeat(20_001)))).toContain('the limit is 20,000');
  });
  it('prompt: empty and huge are refused with their size', () => {
    expect(message(checkPrompt('   \n'))).toBe('Type a message first.');
    expect(message(checkPrompt('x'.repeat(MAX_PROMPT_CHARS + 1)))).toContain('100,001 characters');
    expect(checkPrompt(' hello ')).toEqual({ ok: true, value: 'hello' });
  });
});

describe('extra headers for a gateway', () => {
  it('takes one Name: value a line and refuses what would replace the key or break the request', () => {
    expect(parseHeaderLines('cf-aig-authorization: Bearer abc\n\nx-team: pace ')).toEqual({
      headers: { 'cf-aig-authorization': 'Bearer abc', 'x-team': 'pace' },
      error: null,
    });
    expect(parseHeaderLines('no colon here').error).toBe('Line 1: write each header as "Name: value".');
    expect(parseHeaderLines('x-ok: 1\nAuthorization: Bearer other').error).toBe(
      'Line 2: Pace sets Authorization itself; it cannot be replaced.',
    );
    expect(parseHeaderLines('bad name: 1').error).toContain('Line 1');
  });
});

describe('checkSettings', () => {
  it('reports every bad field at once and saves nothing', () => {
    const r = checkSettings({ model: '', maxTokens: '-3', systemPrompt: '', baseURL: 'javascript:alert(1)' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(['baseURL', 'maxTokens', 'model']);
  });
  it('returns clean values when all are good', () => {
    expect(checkSettings({ model: 'claude-haiku-4-5', maxTokens: ' 512 ', systemPrompt: '', baseURL: '' })).toEqual({
      ok: true,
      value: {
        model: 'claude-haiku-4-5',
        maxTokens: 512,
        systemPrompt: '',
        baseURL: DEFAULT_BASE_URL,
        combineWaiting: false,
        extraHeaders: '',
        promptCache: '5m',
        webSearchMaxUses: 3,
      },
    });
  });

  it('takes 1 to 10 web searches per message (3 when absent), and refuses anything else with the same message', () => {
    const base = { model: 'claude-haiku-4-5', maxTokens: 512, systemPrompt: '', baseURL: '' };
    for (const [given, value] of [
      [1, 1],
      [10, 10],
      [' 7 ', 7],
      ['4', 4],
    ] as const)
      expect(checkSettings({ ...base, webSearchMaxUses: given }), String(given)).toMatchObject({
        ok: true,
        value: { webSearchMaxUses: value },
      });
    expect(checkSettings(base)).toMatchObject({ ok: true, value: { webSearchMaxUses: 3 } });
    for (const bad of [0, 11, -1, 2.5, '3.0', 'three', '', '1e1', Number.NaN, 100])
      expect(checkSettings({ ...base, webSearchMaxUses: bad }), String(bad)).toEqual({
        ok: false,
        errors: {
          webSearchMaxUses: expect.stringMatching(
            /^Web searches per message must be a whole number from 1 to 10( \(got ".*"\))?\.$/,
          ) as string,
        },
      });
    expect(checkWebSearchMaxUses('abc')).toEqual({
      ok: false,
      message: 'Web searches per message must be a whole number from 1 to 10 (got "abc").',
    });
  });

  it("takes the prompt cache's lifetime or off, and refuses anything else", () => {
    const base = { model: 'claude-haiku-4-5', maxTokens: 512, systemPrompt: '', baseURL: '' };
    for (const promptCache of ['5m', '1h', 'off'])
      expect(checkSettings({ ...base, promptCache })).toMatchObject({ ok: true, value: { promptCache } });
    expect(checkSettings({ ...base, promptCache: '10m' })).toEqual({
      ok: false,
      errors: { promptCache: 'The prompt cache is "5m" (5 minutes), "1h" (1 hour) or "off", not "10m".' },
    });
  });
});

describe('settings read back from storage', () => {
  const good = {
    model: 'claude-haiku-4-5',
    maxTokens: 512,
    systemPrompt: 'Be brief.',
    baseURL: 'https://gw.example.com/anthropic',
    combineWaiting: true,
    extraHeaders: 'x-team: t0ken',
    promptCache: '1h' as const,
    webSearchMaxUses: 5,
  };

  it('keeps a value the form would have saved, as it is', () => {
    expect(checkStoredSettings(good)).toEqual({ value: good, invalid: [] });
    expect(checkStoredSettings(DEFAULT_SETTINGS)).toEqual({ value: DEFAULT_SETTINGS, invalid: [] });
  });

  it('puts the default in place of each field that fails, and names it', () => {
    const stored = {
      ...good,
      model: 'no spaces allowed',
      maxTokens: '512',
      systemPrompt: 7,
      combineWaiting: 'yes',
      promptCache: 'forever',
      webSearchMaxUses: 50,
    };
    expect(checkStoredSettings(stored)).toEqual({
      value: {
        ...good,
        model: DEFAULT_SETTINGS.model,
        maxTokens: DEFAULT_SETTINGS.maxTokens,
        systemPrompt: '',
        combineWaiting: false,
        promptCache: DEFAULT_SETTINGS.promptCache,
        webSearchMaxUses: 3,
      },
      invalid: ['model', 'maxTokens', 'systemPrompt', 'combineWaiting', 'promptCache', 'webSearchMaxUses'],
    });
    expect(checkStoredSettings({ ...good, webSearchMaxUses: '4' })).toEqual({
      value: { ...good, webSearchMaxUses: 3 },
      invalid: ['webSearchMaxUses'],
    });
  });

  it('reads settings saved before web searches had a figure as 3 searches, with nothing to report', () => {
    const old: Omit<typeof good, 'webSearchMaxUses'> & { webSearchMaxUses?: number } = { ...good };
    delete old.webSearchMaxUses;
    expect(checkStoredSettings(old)).toEqual({ value: { ...old, webSearchMaxUses: 3 }, invalid: [] });
  });

  it('never keeps a base URL the form would refuse, nor sends its gateway headers to the default', () => {
    for (const baseURL of ['javascript:alert(1)', 'http://gw.example.com', 'https://u:p@gw.example.com', 42]) {
      expect(checkStoredSettings({ ...good, baseURL })).toEqual({
        value: { ...good, baseURL: DEFAULT_BASE_URL, extraHeaders: '' },
        invalid: ['baseURL'],
      });
    }
    expect(checkStoredSettings({ ...good, extraHeaders: 'authorization: Bearer other' })).toEqual({
      value: { ...good, extraHeaders: '' },
      invalid: ['extraHeaders'],
    });
  });

  it('takes anything at all and gives whole settings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ baseURL: fc.string(), model: fc.anything(), maxTokens: fc.anything() }, { requiredKeys: [] }),
        ),
        (raw) => {
          const { value } = checkStoredSettings(raw);
          expect(checkSettings(value)).toEqual({ ok: true, value });
        },
      ),
    );
  });
});

describe('saved gateway headers, as the options page shows them', () => {
  it('names each header and hides its value but for the last four characters of a long one', () => {
    expect(maskHeaderLines('X-Team-Token: sk-team-0123456789ab12\ncf-aig-authorization: Bearer x')).toBe(
      'X-Team-Token: ••••••ab12\ncf-aig-authorization: ••••••',
    );
    expect(maskHeaderLines('')).toBe('');
  });
  it('never shows a value, whatever it is', () => {
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 5, maxLength: 40 })
          .filter((v) => parseHeaderLines(`x-secret: ${v}`).error === null && v.trim().length >= 5),
        (v) => {
          const value = v.trim();
          expect(maskHeaderLines(`x-secret: ${value}`)).not.toContain(value);
        },
      ),
    );
  });
});
