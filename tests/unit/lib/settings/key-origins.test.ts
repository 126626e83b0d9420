import { describe, expect, it } from 'vitest';
import { checkOrigins, confirmQuestion, isGatewayOrigin, unconfirmedOrigin } from '@/lib/settings/key-origins';
import { DEFAULT_BASE_URL } from '@/lib/settings/validate';

describe('where the key may go', () => {
  it("Anthropic's API always; any other origin only once the user confirmed it", () => {
    expect(unconfirmedOrigin(DEFAULT_BASE_URL, [])).toBeNull();
    expect(unconfirmedOrigin('https://api.anthropic.com/v1', [])).toBeNull();
    expect(unconfirmedOrigin('https://litellm.example.com/anthropic', [])).toBe('https://litellm.example.com');
    expect(unconfirmedOrigin('https://litellm.example.com/anthropic', ['https://litellm.example.com'])).toBeNull();
    // The origin is what counts: another port or scheme is another gateway.
    expect(unconfirmedOrigin('http://127.0.0.1:1234', ['http://127.0.0.1:4321'])).toBe('http://127.0.0.1:1234');
    expect(unconfirmedOrigin('https://api.anthropic.com.evil.example', [])).toBe(
      'https://api.anthropic.com.evil.example',
    );
  });

  it('keeps only well-formed origins from storage', () => {
    expect(
      checkOrigins([
        'http://127.0.0.1:1234',
        'https://gw.example.com/path',
        'javascript:alert(1)',
        7,
        'nonsense',
        'https://gw.example.com',
      ]),
    ).toEqual(['http://127.0.0.1:1234', 'https://gw.example.com']);
    expect(checkOrigins('https://gw.example.com')).toEqual([]);
    expect(checkOrigins(null)).toEqual([]);
  });

  it('a gateway origin is one the settings accept as a base URL: https, or plain http on this computer only', () => {
    for (const ok of [
      'https://gw.example.com',
      'https://gw.example.com:8443',
      'http://127.0.0.1:1234',
      'http://localhost:4000',
      'http://[::1]:8080',
    ])
      expect(isGatewayOrigin(ok)).toBe(true);
    for (const no of [
      'http://gw.example.com',
      'http://192.168.1.10:4000',
      'http://127.0.0.1.nip.io',
      'https://gw.example.com/v1',
      'https://u:p@gw.example.com',
      'ftp://gw.example.com',
      '',
      'https://api.anthropic.com',
    ]) {
      expect(isGatewayOrigin(no)).toBe(false);
    }
    // Nor does storage bring one back.
    expect(checkOrigins(['http://gw.example.com', 'https://gw.example.com'])).toEqual(['https://gw.example.com']);
  });

  it('asks in words that name the origin', () => {
    expect(confirmQuestion('http://127.0.0.1:1234')).toBe(
      'Send your API key to http://127.0.0.1:1234? Only do this for a gateway you trust.',
    );
  });
});
