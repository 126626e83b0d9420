import { describe, expect, it } from 'vitest';
import { checkOrigins, confirmQuestion, unconfirmedOrigin } from '@/lib/settings/key-origins';
import { DEFAULT_BASE_URL } from '@/lib/settings/validate';

describe('where the key may go', () => {
  it("Anthropic's API always; any other origin only once the user confirmed it", () => {
    expect(unconfirmedOrigin(DEFAULT_BASE_URL, [])).toBeNull();
    expect(unconfirmedOrigin('https://api.anthropic.com/v1', [])).toBeNull();
    expect(unconfirmedOrigin('https://litellm.example.com/anthropic', [])).toBe('https://litellm.example.com');
    expect(unconfirmedOrigin('https://litellm.example.com/anthropic', ['https://litellm.example.com'])).toBeNull();
    // The origin is what counts: another port or scheme is another gateway.
    expect(unconfirmedOrigin('http://127.0.0.1:1234', ['http://127.0.0.1:4321'])).toBe('http://127.0.0.1:1234');
    expect(unconfirmedOrigin('https://api.anthropic.com.evil.example', [])).toBe('https://api.anthropic.com.evil.example');
  });

  it('keeps only well-formed origins from storage', () => {
    expect(checkOrigins(['http://127.0.0.1:1234', 'https://gw.example.com/path', 'javascript:alert(1)', 7, 'nonsense', 'https://gw.example.com'])).toEqual([
      'http://127.0.0.1:1234',
      'https://gw.example.com',
    ]);
    expect(checkOrigins('https://gw.example.com')).toEqual([]);
    expect(checkOrigins(null)).toEqual([]);
  });

  it('asks in words that name the origin', () => {
    expect(confirmQuestion('http://127.0.0.1:1234')).toBe('Send your API key to http://127.0.0.1:1234? Only do this for a gateway you trust.');
  });
});
