/**
 * Claude where people read: the context menu on selected text (plain, or with a prompt template),
 * the keyboard commands, and "Ask about this page". Everything it sends goes through `send`
 * (the chat.send handler), so the queue, the limits and the budget apply as to a typed message.
 *
 * `listen` registers the browser listeners (call it in the worker's first turn, with the others);
 * `buildMenus` makes the menu from the saved templates (at start-up and after they change).
 */
import type { Browser, WxtBrowser } from 'wxt/browser';
import { contextWindow as modelContextWindow } from '../claude/models';
import { quota } from '../limits/admission';
import { readQuotaState } from '../limits/limiter-store';
import { PaceFailure, type PaceEvent, type SendResult } from '../protocol';
import type { PaceError, PromptTemplate } from '../storage/rows';
import { openPanel, PANEL_NAME, type PanelBrowser } from './open-panel';
import {
  DEFAULT_PAGE_QUESTION,
  fitPage,
  pagePreview,
  pagePrompt,
  unreadableFromError,
  unreadablePage,
  type PageAttachment,
} from './page-text';
import { readTemplates, saveTemplates } from './template-store';
import { checkTemplates, selectionPrompt, withQuote, type Source } from './templates';
import type { Settings } from '../settings/validate';
import type { PaceDB } from '../storage/db';
import { draftItem } from '../storage/draft';
import { settingsFor } from '../chat/conversation-store';

export const MENU = {
  ask: 'pace-ask',
  templates: 'pace-templates',
  template: 'pace-template:',
  panel: 'pace-panel',
} as const;

const COMMANDS = { panel: 'open-side-panel', ask: 'ask-selection' } as const;

/** The parts of `browser` this module uses (Firefox's `menus` answers to `contextMenus` too). */
export type ReachBrowser = Pick<WxtBrowser, 'contextMenus' | 'commands' | 'tabs' | 'scripting' | 'runtime'> &
  PanelBrowser;

export interface ReachDeps {
  browser: ReachBrowser;
  db: PaceDB;
  /** Queues a new conversation's first message: the chat.send handler (`later`: gathered for a batch). */
  send: (text: string, options: { later: boolean }) => Promise<SendResult>;
  /** The user's "send later by default" (the batch prefs), which a template's message follows as a typed one does. */
  sendsLater: () => Promise<boolean>;
  /** Pushes an event to every open Pace page. */
  publish: (event: PaceEvent) => void;
  settings: () => Promise<Settings>;
  now: () => number;
  newId?: () => string;
  contextWindow?: (model: string) => number;
}

type ClickInfo = Pick<Browser.contextMenus.OnClickData, 'menuItemId' | 'selectionText' | 'pageUrl' | 'frameUrl'>;
type TabInfo = Pick<Browser.tabs.Tab, 'id' | 'windowId' | 'title' | 'url'>;

const NO_SELECTION: PaceError = {
  code: 'invalid_input',
  message: 'Select some text on the page first, then ask Claude about it.',
};

export function createReach(deps: ReachDeps) {
  const { browser, db } = deps;
  const newId = deps.newId ?? (() => crypto.randomUUID());

  /** Opens the chat beside the page; called in the gesture's own turn, before anything is awaited. */
  function openChat(windowId: number | undefined): void {
    openPanel(browser, windowId).catch((err: unknown) =>
      console.warn(`[pace] could not open the ${PANEL_NAME}`, err instanceof Error ? err.message : err),
    );
  }

  function notice(error: PaceError): void {
    console.warn('[pace]', error.message);
    deps.publish({ type: 'notice', error });
  }

  /** The quote goes into the message box, after what is already typed there, for the user's own question. */
  async function fill(text: string): Promise<void> {
    const draft = await draftItem.getValue();
    await draftItem.setValue(withQuote(draft, text));
    deps.publish({ type: 'composer.fill', text });
  }

  async function sendNew(text: string): Promise<void> {
    try {
      // The pages show it as the latest conversation (components/chat/use-follow-latest.ts).
      await deps.send(text, { later: await deps.sendsLater() });
    } catch (err) {
      notice(
        err instanceof PaceFailure
          ? err.error
          : {
              code: 'internal',
              message: `Pace could not send it: ${err instanceof Error ? err.message : String(err)}`,
            },
      );
    }
  }

  async function fromMenu(id: string, selection: string, source: Source): Promise<void> {
    if (selection.trim() === '') return notice(NO_SELECTION);
    if (id === MENU.ask) return fill(selectionPrompt(selection, null, source));
    const templates = await readTemplates(db);
    const template = templates.find((t) => MENU.template + t.id === id);
    if (!template)
      return notice({
        code: 'not_found',
        message: 'That template was changed or removed. Right-click the selection again.',
      });
    return sendNew(selectionPrompt(selection, template, source));
  }

  async function selectionIn(tab: TabInfo): Promise<string> {
    if (tab.id === undefined) return '';
    const [result] = await browser.scripting.executeScript({
      target: { tabId: tab.id },
      func: () => globalThis.getSelection()?.toString() ?? '',
    });
    return typeof result?.result === 'string' ? result.result : '';
  }

  const reach = {
    /** The context menu's click: as the browser calls it. */
    onMenuClicked: (info: ClickInfo, tab?: TabInfo): void => {
      const id = String(info.menuItemId);
      if (!id.startsWith('pace-')) return;
      openChat(tab?.windowId);
      if (id === MENU.panel) return;
      // A selection inside a frame is credited to the frame's address; the tab's title names another document.
      const top = info.pageUrl ?? tab?.url;
      const source = info.frameUrl && info.frameUrl !== top ? { url: info.frameUrl } : { title: tab?.title, url: top };
      fromMenu(id, info.selectionText ?? '', source).catch((err: unknown) =>
        console.warn('[pace] the menu item failed', err),
      );
    },

    onCommand: (command: string, tab?: TabInfo): void => {
      if (command !== COMMANDS.panel && command !== COMMANDS.ask) return;
      openChat(tab?.windowId);
      if (command !== COMMANDS.ask || !tab) return;
      selectionIn(tab)
        .then(
          (selection) =>
            selection.trim() === ''
              ? notice(NO_SELECTION)
              : fill(selectionPrompt(selection, null, { title: tab.title, url: tab.url })),
          (err: unknown) =>
            notice({
              code: 'permission_denied',
              message: unreadablePage(tab.url) ?? `Pace could not read the selection on this page: ${errorText(err)}`,
            }),
        )
        .catch((err: unknown) => console.warn('[pace] the shortcut failed', err));
    },

    /** Makes the menu from the saved templates, replacing what was there. */
    async buildMenus(): Promise<void> {
      const templates = await readTemplates(db);
      await browser.contextMenus.removeAll();
      const firefox = import.meta.env.BROWSER === 'firefox';
      // Firefox reads "&" as an access key; "&&" shows one.
      const label = (title: string) => (firefox ? title.replace(/&/g, '&&') : title);
      const create = (props: Browser.contextMenus.CreateProperties) =>
        browser.contextMenus.create(props, () => {
          const error = browser.runtime.lastError;
          if (error) console.warn('[pace] could not add a menu item', props.id, error.message);
        });
      create({ id: MENU.ask, title: 'Ask Claude about the selection', contexts: ['selection'] });
      create({ id: MENU.templates, title: 'Ask Claude with a template', contexts: ['selection'] });
      for (const t of templates)
        create({ id: MENU.template + t.id, parentId: MENU.templates, title: label(t.title), contexts: ['selection'] });
      create({ id: MENU.panel, title: `Open Pace in the ${PANEL_NAME}`, contexts: ['page', 'selection'] });
    },

    /** Checks and saves the templates the options page sent, then rebuilds the menu. */
    async saveTemplates(input: readonly unknown[]): Promise<PromptTemplate[]> {
      const checked = checkTemplates(input, newId);
      if (!checked.ok) {
        const fields: Record<string, string> = {};
        if (checked.errors.list) fields.list = checked.errors.list;
        checked.errors.rows.forEach((row, i) => {
          if (row.title) fields[`${i}.title`] = row.title;
          if (row.prompt) fields[`${i}.prompt`] = row.prompt;
        });
        throw new PaceFailure({ code: 'invalid_input', message: checked.message, fields });
      }
      await saveTemplates(db, checked.value);
      await reach.buildMenus();
      return checked.value;
    },

    /** Reads the active tab's main text and measures it against the limits ("Ask about this page"). */
    async readPage(
      chat: { conversationId: string | null; model: string | null } = { conversationId: null, model: null },
    ): Promise<PageAttachment> {
      const [tab] = await browser.tabs.query({ active: true, lastFocusedWindow: true });
      if (tab?.id === undefined)
        throw new PaceFailure({ code: 'invalid_input', message: 'Pace found no open tab to read.' });
      // The address is visible only with the permission; without it the injection below says no.
      const blocked = tab.url === undefined ? null : unreadablePage(tab.url);
      if (blocked) throw new PaceFailure({ code: 'permission_denied', message: blocked });
      let found: unknown;
      try {
        await browser.scripting.executeScript({ target: { tabId: tab.id }, files: ['/read-page.js'] });
        const [result] = await browser.scripting.executeScript({
          target: { tabId: tab.id },
          func: () => (globalThis as unknown as { paceReadPage?: () => unknown }).paceReadPage?.() ?? null,
        });
        found = result?.result;
      } catch (err) {
        const refused = unreadableFromError(errorText(err));
        if (refused) throw new PaceFailure({ code: 'permission_denied', message: refused });
        throw new PaceFailure({
          code: 'permission_denied',
          message: `Pace may not read this page (${errorText(err)}). Pace reads a page only right after you open it on that page: click Pace's toolbar button there (or press its shortcut), then Ask about this page.`,
        });
      }
      const read = found as { title?: unknown; text?: unknown } | null;
      if (!read || typeof read.text !== 'string') {
        throw new PaceFailure({
          code: 'invalid_input',
          message:
            'Pace found no main text on this page. Select the part you want and use "Ask Claude about the selection" instead.',
        });
      }
      const title = typeof read.title === 'string' && read.title ? read.title : (tab.title ?? '');
      const { page, cut } = fitPage({ title, url: tab.url ?? '', text: read.text });
      // Priced with the model the page would go with: the chat's own, or the one chosen for a new chat.
      const [settings, { limits, state }] = await Promise.all([
        deps
          .settings()
          .then((read) =>
            chat.model !== null
              ? { ...read, model: chat.model }
              : chat.conversationId !== null
                ? settingsFor(db, read, chat.conversationId)
                : read,
          ),
        readQuotaState(db, deps.now()),
      ]);
      const preview = pagePreview({
        chars: pagePrompt(page, DEFAULT_PAGE_QUESTION).length + settings.systemPrompt.length,
        model: settings.model,
        maxTokens: settings.maxTokens,
        limits,
        monthLeft: quota(deps.now(), limits, state).monthLeft,
        window: (deps.contextWindow ?? modelContextWindow)(settings.model),
      });
      return { ...page, cut, preview };
    },

    /** Registers the menu and command listeners: in the worker's first turn, like every listener. */
    listen(): void {
      browser.contextMenus.onClicked.addListener(reach.onMenuClicked);
      browser.commands.onCommand.addListener(reach.onCommand);
    },
  };
  return reach;
}

export type Reach = ReturnType<typeof createReach>;

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}
