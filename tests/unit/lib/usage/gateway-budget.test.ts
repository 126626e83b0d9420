import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PaceDB } from '@/lib/storage/db';
import {
  formatUsd,
  gatewayBudgetText,
  parseKeyInfo,
  readGatewayBudget,
  saveGatewayBudget,
} from '@/lib/usage/gateway-budget';

const DEC_1 = Date.UTC(2026, 11, 1);

describe('parseKeyInfo', () => {
  it("reads LiteLLM's /key/info: spend, max_budget and budget_reset_at under `info`", () => {
    const body = {
      key: '80321a12d03412c527f2bd9db5fabd746abead2e1d50b435a534432fbaca9ef5',
      info: {
        key_name: 'sk-...0123',
        spend: 37.6,
        max_budget: 50,
        budget_duration: '30d',
        budget_reset_at: '2026-12-01T00:00:00Z',
        models: [],
        metadata: {},
      },
    };
    expect(parseKeyInfo(body)).toEqual({ spend: 37.6, maxBudget: 50, resetAt: DEC_1 });
  });

  it('reads the same fields at the top, a key without a budget, and a budget that never resets', () => {
    expect(parseKeyInfo({ spend: 3, max_budget: null, budget_reset_at: null })).toEqual({
      spend: 3,
      maxBudget: null,
      resetAt: null,
    });
    expect(parseKeyInfo({ info: { spend: 0, max_budget: 10 } })).toEqual({ spend: 0, maxBudget: 10, resetAt: null });
    expect(parseKeyInfo({ info: { spend: 1, max_budget: 10, budget_reset_at: 'whenever' } })).toEqual({
      spend: 1,
      maxBudget: 10,
      resetAt: null,
    });
  });

  it('refuses junk without throwing', () => {
    for (const junk of [
      null,
      'text',
      42,
      [],
      {},
      { info: {} },
      { info: { spend: '12' } },
      { info: { spend: -1 } },
      { info: { spend: Infinity } },
      { info: { spend: 1, max_budget: 'lots' } },
      { info: { spend: 1, max_budget: -5 } },
      { detail: 'Not Found' },
    ]) {
      expect(parseKeyInfo(junk), JSON.stringify(junk)).toBeNull();
    }
  });
});

describe("the popup's line", () => {
  it('says what is left of the budget and when it resets', () => {
    expect(gatewayBudgetText({ spend: 37.6, maxBudget: 50, resetAt: DEC_1 })).toBe(
      'Team gateway: $12.40 of $50 left, resets 1 Dec',
    );
    expect(gatewayBudgetText({ spend: 60, maxBudget: 50, resetAt: null })).toBe('Team gateway: $0 of $50 left');
    expect(gatewayBudgetText({ spend: 3.2, maxBudget: null, resetAt: null })).toBe(
      'Team gateway: $3.20 spent, no budget set',
    );
  });

  it('writes amounts as people read them', () => {
    expect(formatUsd(1250)).toBe('$1,250');
    expect(formatUsd(0.001)).toBe('<$0.01');
    expect(formatUsd(0.126)).toBe('$0.13');
  });
});

describe('the stored row', () => {
  let db: PaceDB;
  beforeEach(() => {
    db = new PaceDB(`gateway-budget-${Math.random()}`);
  });
  afterEach(async () => {
    await db.delete();
  });

  it('reads back what was saved, and nothing from a damaged row', async () => {
    const row = {
      baseURL: 'https://litellm.example.com',
      checkedAt: 5,
      budget: { spend: 1, maxBudget: 50, resetAt: DEC_1 },
    };
    await saveGatewayBudget(db, row);
    expect(await readGatewayBudget(db)).toEqual(row);
    await saveGatewayBudget(db, { ...row, budget: null });
    expect(await readGatewayBudget(db)).toEqual({ ...row, budget: null });
    for (const damaged of [
      { ...row, checkedAt: 'x' },
      { ...row, budget: { spend: 'a lot', maxBudget: 1, resetAt: null } },
      { ...row, budget: { spend: 1, maxBudget: 'x', resetAt: null } },
      'junk',
    ]) {
      await db.meta.put({ key: 'gatewayBudget', value: damaged as never });
      expect(await readGatewayBudget(db), JSON.stringify(damaged)).toBeNull();
    }
  });
});
