import { describe, expect, it } from 'vitest';
import { storageSentence } from '@/components/usage/StorageUsed';

describe('the storage line of the usage page', () => {
  it('says what is used of the quota in human units, with the attachments share', () => {
    expect(storageSentence({ usage: 5_452_595, quota: 2 * 1024 ** 3 }, 1_572_864)).toBe(
      '5.2 MB used of 2.0 GB available; images and PDFs: 1.5 MB.',
    );
  });

  it('waits for the estimate, and says when the browser gives none', () => {
    expect(storageSentence(null, 0)).toBe('Measuring…');
    expect(storageSentence('unknown', 2048)).toBe(
      'This browser does not say how much storage is used; images and PDFs: 2.0 KB.',
    );
    expect(storageSentence({ usage: 900 }, undefined)).toBe('900 B used.');
  });
});
