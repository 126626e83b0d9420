/**
 * The context menu, the commands and "Ask about this page" in the background (lib/reach/reach-menus.ts),
 * driven as the browser drives them, with a stand-in for the browser's menus, tabs and scripting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createReach, MENU, type ReachBrowser, type ReachDeps } from '@/lib/reach/reach-menus';
import { PaceFailure, type PaceEvent } from '@/lib/protocol';
import { readTemplates } from '@/lib/reach/template-store';
import { CUT_NOTE, TEMPLATE_SELECTION_CHARS } from '@/lib/reach/templates';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { draftItem } from '@/lib/storage/draft';

let db: PaceDB;
let events: PaceEvent[];
let sent: string[];
let sentLater: boolean[];
let menus: { id?: string; parentId?: string | number; title?: string }[];
let opened: number[];
let pageTab: { id: number; windowId: number; url?: string; title: string };
let injected: unknown;

function reach(overrides: Partial<ReachDeps> = {}) {
  const browser = {
    contextMenus: {
      removeAll: async () => {
        menus = [];
      },
      create: (props: { id?: string }, done?: () => void) => {
        menus.push(props);
        done?.();
        return props.id;
      },
      onClicked: { addListener: vi.fn() },
    },
    commands: { onCommand: { addListener: vi.fn() } },
    runtime: { lastError: undefined },
    tabs: { query: async () => [pageTab] },
    scripting: {
      executeScript: async (options: { files?: string[] }) => {
        if (injected instanceof Error) throw injected;
        return options.files ? [{ result: undefined }] : [{ result: injected }];
      },
    },
    sidePanel: {
      open: async ({ windowId }: { windowId: number }) => {
        opened.push(windowId);
      },
    },
  } as unknown as ReachBrowser;
  return createReach({
    browser,
    db,
    send: async (text, { later }) => {
      sent.push(text);
      sentLater.push(later);
      return { conversationId: 'c1', userMessageId: 'u1', assistantMessageId: 'a1' };
    },
    publish: (e) => events.push(e),
    sendsLater: async () => false,
    settings: async () => ({ ...DEFAULT_SETTINGS, model: 'claude-sonnet-4-5', maxTokens: 1000 }),
    now: () => Date.now(),
    newId: () => `id-${menus.length}-${Math.random().toString(36).slice(2, 6)}`,
    ...overrides,
  });
}

const tab = { id: 7, windowId: 3, title: 'Bread', url: 'https://example.org/bread' };

beforeEach(() => {
  db = new PaceDB(`reach-${Math.random()}`);
  events = [];
  sent = [];
  sentLater = [];
  menus = [];
  opened = [];
  pageTab = { id: 7, windowId: 3, title: 'Bread', url: 'https://example.org/bread' };
  injected = { title: 'Bread that keeps', text: 'The  article\n\n\n\ntext.' };
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(async () => {
  await db.delete();
  vi.restoreAllMocks();
});

describe('the context menu', () => {
  it('is made from the saved templates, under one submenu', async () => {
    await reach().buildMenus();
    expect(menus.map((m) => [m.id, m.parentId ?? null, m.title])).toEqual([
      [MENU.ask, null, 'Ask Claude about the selection'],
      [MENU.templates, null, 'Ask Claude with a template'],
      ['pace-template:summarize', MENU.templates, 'Summarize'],
      ['pace-template:explain', MENU.templates, 'Explain'],
      ['pace-template:translate', MENU.templates, 'Translate to English'],
      ['pace-template:rewrite', MENU.templates, 'Rewrite plainly'],
      [MENU.panel, null, 'Open Pace in the side panel'],
    ]);
  });

  it('a template sends the quoted selection as a new conversation, opens the panel at once, and shows the chat', async () => {
    const r = reach();
    r.onMenuClicked({ menuItemId: 'pace-template:summarize', selectionText: 'Some words', pageUrl: tab.url }, tab);
    // Opened in the click's own turn: the browser allows it only there.
    expect(opened).toEqual([3]);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toBe(
      'Summarize this text in a few sentences.\n\nFrom "Bread" (https://example.org/bread):\n\n> Some words',
    );
  });

  it('a template follows "send later by default"', async () => {
    reach({ sendsLater: async () => true }).onMenuClicked(
      { menuItemId: 'pace-template:explain', selectionText: 'Some words', pageUrl: tab.url },
      tab,
    );
    reach().onMenuClicked({ menuItemId: 'pace-template:explain', selectionText: 'Other words', pageUrl: tab.url }, tab);
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(Object.fromEntries(sent.map((text, i) => [text.split('\n').at(-1), sentLater[i]]))).toEqual({
      '> Some words': true,
      '> Other words': false,
    });
  });

  it('a template sends at most TEMPLATE_SELECTION_CHARS of the selection, however much the page put in it, and says it was cut', async () => {
    const swapped = `${'hidden instructions '.repeat(5_000)}`;
    reach().onMenuClicked({ menuItemId: 'pace-template:summarize', selectionText: swapped, pageUrl: tab.url }, tab);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    const quoted = sent[0]!.split('\n\n').at(-1)!;
    expect(quoted.endsWith(CUT_NOTE)).toBe(true);
    expect(quoted.length).toBeLessThan(TEMPLATE_SELECTION_CHARS + CUT_NOTE.length + 10);
    expect(TEMPLATE_SELECTION_CHARS).toBeLessThan(swapped.length);
  });

  it("a selection inside a frame is credited to the frame's address, not the top page's", async () => {
    const r = reach();
    const frameUrl = 'https://ads.example/frame.html?id=9';
    r.onMenuClicked(
      { menuItemId: 'pace-template:summarize', selectionText: 'Framed words', pageUrl: tab.url, frameUrl },
      tab,
    );
    r.onMenuClicked({ menuItemId: MENU.ask, selectionText: 'Framed words', pageUrl: tab.url, frameUrl }, tab);
    // The top page's own frame is the page.
    r.onMenuClicked({ menuItemId: MENU.ask, selectionText: 'Top words', pageUrl: tab.url, frameUrl: tab.url }, tab);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    await vi.waitFor(() => expect(events.filter((e) => e.type === 'composer.fill')).toHaveLength(2));
    expect(sent[0]).toBe(
      'Summarize this text in a few sentences.\n\nFrom https://ads.example/frame.html:\n\n> Framed words',
    );
    const fills = events.flatMap((e) => (e.type === 'composer.fill' ? [e.text] : [])).sort();
    expect(fills).toEqual([
      'From "Bread" (https://example.org/bread):\n\n> Top words',
      'From https://ads.example/frame.html:\n\n> Framed words',
    ]);
  });

  it('"Ask Claude about the selection" fills the message box and the draft, and sends nothing', async () => {
    reach().onMenuClicked({ menuItemId: MENU.ask, selectionText: 'Some words', pageUrl: tab.url }, tab);
    await vi.waitFor(() =>
      expect(events).toEqual([
        { type: 'composer.fill', text: 'From "Bread" (https://example.org/bread):\n\n> Some words' },
      ]),
    );
    expect(await draftItem.getValue()).toBe('From "Bread" (https://example.org/bread):\n\n> Some words');
    expect(sent).toEqual([]);
  });

  it('the quote goes after a draft already typed, which is kept', async () => {
    await draftItem.setValue('My own question, half typed');
    reach().onMenuClicked({ menuItemId: MENU.ask, selectionText: 'Some words', pageUrl: tab.url }, tab);
    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(await draftItem.getValue()).toBe(
      'My own question, half typed\n\nFrom "Bread" (https://example.org/bread):\n\n> Some words',
    );
  });

  it('an empty selection, a removed template and a refused send are said to the pages', async () => {
    const refusing = reach({
      send: async () => {
        throw new PaceFailure({ code: 'month_used_up', message: "This month's 5 requests are used." });
      },
    });
    refusing.onMenuClicked({ menuItemId: 'pace-template:summarize', selectionText: '  ' }, tab);
    refusing.onMenuClicked({ menuItemId: 'pace-template:gone', selectionText: 'x' }, tab);
    refusing.onMenuClicked({ menuItemId: 'pace-template:explain', selectionText: 'x' }, tab);
    await vi.waitFor(() => expect(events).toHaveLength(3));
    expect(events.map((e) => e.type === 'notice' && e.error.message).sort()).toEqual([
      'Select some text on the page first, then ask Claude about it.',
      'That template was changed or removed. Right-click the selection again.',
      "This month's 5 requests are used.",
    ]);
  });

  it("another extension's menu item is not Pace's business", () => {
    reach().onMenuClicked({ menuItemId: 'other', selectionText: 'x' }, tab);
    expect(opened).toEqual([]);
  });
});

describe('saving templates', () => {
  it('saves checked templates and rebuilds the menu', async () => {
    const saved = await reach().saveTemplates([
      { id: 'summarize', title: 'Sum up', prompt: 'Sum it up.' },
      { title: 'Critique', prompt: 'Find the weak points.' },
    ]);
    expect(saved.map((t) => t.title)).toEqual(['Sum up', 'Critique']);
    expect(await readTemplates(db)).toEqual(saved);
    expect(menus.filter((m) => m.parentId === MENU.templates).map((m) => m.title)).toEqual(['Sum up', 'Critique']);
  });

  it('refuses bad ones with a message per field, and keeps what was saved', async () => {
    const error = await reach()
      .saveTemplates([
        { title: '', prompt: 'x' },
        { title: 'B', prompt: '' },
      ])
      .catch((e: unknown) => (e as PaceFailure).error);
    expect(error).toEqual({
      code: 'invalid_input',
      message: 'Template 1: give it a title (the menu shows it).',
      fields: {
        '0.title': 'Template 1: give it a title (the menu shows it).',
        '1.prompt': 'Template 2: write the instruction Claude gets with the selection.',
      },
    });
    expect((await readTemplates(db)).map((t) => t.title)).toEqual([
      'Summarize',
      'Explain',
      'Translate to English',
      'Rewrite plainly',
    ]);
  });
});

describe('Ask about this page', () => {
  it('reads the main text and measures it', async () => {
    const page = await reach().readPage();
    expect(page).toMatchObject({
      title: 'Bread that keeps',
      url: 'https://example.org/bread',
      text: 'The article\n\ntext.',
      cut: false,
    });
    expect(page.preview.lines[0]).toMatch(/^About \d+ tokens\.$/);
  });

  it("prices the page with the chat's model: a conversation's own, or the one chosen for a new chat", async () => {
    const costLine = async (chat: Parameters<ReturnType<typeof reach>['readPage']>[0]) =>
      (await reach().readPage(chat)).preview.lines[1];
    const options = await costLine({ conversationId: null, model: null });
    const chosen = await costLine({ conversationId: null, model: 'claude-opus-4-1' });
    expect(chosen).not.toBe(options);
    await db.conversations.add({ id: 'c-opus', title: 't', createdAt: 0, updatedAt: 0, model: 'claude-opus-4-1' });
    expect(await costLine({ conversationId: 'c-opus', model: null })).toBe(chosen);
    expect(await costLine({ conversationId: null, model: 'no-such-model' })).toBe(
      "Cost: unknown, no-such-model is not in Pace's price table.",
    );
  });

  it("the browser's own pages, pages it would not let Pace into, and pages with no text each get a clear message", async () => {
    const message = (p: Promise<unknown>) =>
      p.then(
        () => 'read',
        (e: unknown) => (e as PaceFailure).error.message,
      );
    pageTab = { ...pageTab, url: 'about:addons' };
    expect(await message(reach().readPage())).toContain('does not let extensions read its own pages (about:)');
    pageTab = { ...pageTab, url: undefined };
    injected = new Error('Cannot access a chrome:// URL');
    expect(await message(reach().readPage())).toContain('does not let extensions read its own pages (chrome:)');
    injected = new Error('Missing host permission for the tab');
    expect(await message(reach().readPage())).toContain(
      'Pace may not read this page (Missing host permission for the tab)',
    );
    injected = null;
    pageTab = { ...pageTab, url: 'https://example.org/empty' };
    expect(await message(reach().readPage())).toContain('Pace found no main text on this page');
  });
});
