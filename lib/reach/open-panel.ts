/**
 * Opens Pace's chat beside the page: Chrome's side panel or Firefox's sidebar. Browsers allow it
 * only from the user's gesture (a click in the popup, a menu item, a shortcut), so call it in the
 * gesture's own turn, with no await before it; `windowId` is the window to open it in (Chrome).
 */
export interface PanelBrowser {
  sidePanel?: { open(options: { windowId: number }): Promise<void> };
  sidebarAction?: { open(): Promise<void> };
}

export function openPanel(browser: PanelBrowser, windowId: number | undefined): Promise<void> {
  if (import.meta.env.BROWSER === 'firefox') {
    return browser.sidebarAction
      ? browser.sidebarAction.open()
      : Promise.reject(new Error('This Firefox has no sidebar for extensions.'));
  }
  if (!browser.sidePanel)
    return Promise.reject(new Error('This browser has no side panel for extensions (Chrome 116 or later has one).'));
  if (windowId === undefined) return Promise.reject(new Error('No window to open the side panel in.'));
  return browser.sidePanel.open({ windowId });
}

/** What the panel is called in this browser, for labels. */
export const PANEL_NAME = import.meta.env.BROWSER === 'firefox' ? 'sidebar' : 'side panel';
