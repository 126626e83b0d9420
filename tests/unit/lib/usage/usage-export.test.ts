import { afterEach, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvCell, exportFileName, usageToCsv, usageToJson } from '@/lib/usage/usage-export';
import { row } from './fixtures';

const originalTz = process.env.TZ;
afterEach(() => {
  process.env.TZ = originalTz;
});

/** A small RFC 4180 reader, to check that what we write reads back cell for cell. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let cell = '';
  let cells: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      cells.push(cell);
      rows.push(cells);
      cells = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

describe('usageToCsv', () => {
  it('writes a header and one CRLF line per row, with ISO times', () => {
    const csv = usageToCsv([
      row({ at: Date.UTC(2026, 10, 16, 12, 30), costUsd: 0.0105 }),
      row({ costUsd: null, status: undefined, ttftMs: null }),
    ]);
    const lines = csv.split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines[1]).toBe(
      '2026-11-16T12:30:00.000Z,claude-sonnet-4-6,c1,m1,ok,200,,1000,500,0,0,400,2000,1,false,0.0105,,0,0',
    );
    expect(parseCsv(csv)[2]).toEqual([
      '2026-11-16T12:00:00.000Z',
      'claude-sonnet-4-6',
      'c1',
      'm1',
      'ok',
      '',
      '',
      '1000',
      '500',
      '0',
      '0',
      '',
      '2000',
      '1',
      'false',
      '',
      '',
      '0',
      '0',
    ]);
  });

  it("adds each row's web searches and their cost (part of costUsd) at the end; empty cost when the usage is unknown", () => {
    const csv = usageToCsv([
      row({
        usage: { inputTokens: 3000, outputTokens: 500, cacheReadTokens: 0, cacheCreationTokens: 0, webSearches: 3 },
        costUsd: 0.0465,
        webSearchUsd: 0.03,
      }),
      row({ usageUnknown: true, costUsd: null, webSearchUsd: null }),
    ]);
    const [header, searched, unknown] = parseCsv(csv);
    expect(header!.slice(-2)).toEqual(['webSearches', 'webSearchUsd']);
    expect(searched!.slice(-2)).toEqual(['3', '0.03']);
    expect(unknown!.slice(-2)).toEqual(['0', '']);
    const json = JSON.parse(
      usageToJson([
        row({
          webSearchUsd: 0.02,
          usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0, webSearches: 2 },
        }),
      ]),
    ) as { webSearchUsd: number; usage: { webSearches: number } }[];
    expect(json[0]).toMatchObject({ webSearchUsd: 0.02, usage: { webSearches: 2 } });
  });

  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    const tricky = 'a "b", c\r\nd';
    const csv = usageToCsv([row({ conversationId: tricky, errorType: 'x,y' })]);
    expect(csv).toContain('"a ""b"", c\r\nd"');
    const parsed = parseCsv(csv);
    expect(parsed).toHaveLength(2);
    expect(parsed[1]![CSV_COLUMNS.indexOf('conversationId')]).toBe(tricky);
    expect(parsed[1]![CSV_COLUMNS.indexOf('errorType')]).toBe('x,y');
  });

  it('defuses cells a spreadsheet would run as formulas', () => {
    for (const evil of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
      const cell = parseCsv(usageToCsv([row({ model: evil })]))[1]![CSV_COLUMNS.indexOf('model')]!;
      expect(cell).toBe(`'${evil}`);
    }
    expect(csvCell('=1,2')).toBe(`"'=1,2"`);
    expect(csvCell('a=1')).toBe('a=1');
    expect(csvCell(42)).toBe('42');
  });

  it('turns every cell into text before defusing and quoting it, whatever a damaged row holds', () => {
    expect(csvCell(['=HYPERLINK("http://x")'])).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell(['a', 'b'])).toBe('"a,b"');
    expect(csvCell({ toString: () => '@SUM(A1)' })).toBe("'@SUM(A1)");
    expect(csvCell(-5)).toBe("'-5");
    expect(csvCell(false)).toBe('false');
    const damaged = row({
      usage: {
        inputTokens: ['=1+1', 'x'] as unknown as number,
        outputTokens: 1,
        cacheReadTokens: 0,
        cacheCreationTokens: 0,
      },
    });
    const cells = parseCsv(usageToCsv([damaged]))[1]!;
    expect(cells).toHaveLength(CSV_COLUMNS.length);
    expect(cells[CSV_COLUMNS.indexOf('inputTokens')]).toBe("'=1+1,x");
  });

  it('writes just the header for no rows', () => {
    expect(usageToCsv([])).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });
});

describe('usageToJson', () => {
  it('round-trips every row, with its time as ISO text', () => {
    const rows = [row({ id: 1 }), row({ id: 2, conversationId: 'q"\n', costUsd: null })];
    const back = JSON.parse(usageToJson(rows)) as unknown[];
    expect(back).toEqual(rows.map((r) => ({ time: new Date(r.at).toISOString(), ...r })));
    expect(JSON.parse(usageToJson([]))).toEqual([]);
  });
});

describe('exportFileName', () => {
  it('is dated by the local day', () => {
    process.env.TZ = 'Asia/Tokyo';
    expect(exportFileName(Date.UTC(2026, 10, 30, 16), 'csv')).toBe('pace-usage-2026-12-01.csv');
    expect(exportFileName(Date.UTC(2026, 10, 30, 1), 'json')).toBe('pace-usage-2026-11-30.json');
  });
});
