import { useEffect, useState } from 'react';

interface Command {
  name?: string;
  description?: string;
  shortcut?: string;
}

const NAMES: Record<string, string> = {
  _execute_action: 'Open Pace',
  _execute_browser_action: 'Open Pace',
  _execute_sidebar_action: 'Open Pace in the sidebar',
};

/**
 * The keyboard shortcuts as the browser has them now (the user may have changed them), and where
 * to change them: Chrome's shortcut page, or Firefox's add-ons manager.
 */
export function ShortcutsSection({
  browser,
}: {
  browser: { commands: { getAll(): Promise<Command[]> }; tabs: { create(p: { url: string }): Promise<unknown> } };
}) {
  const [commands, setCommands] = useState<Command[] | null>(null);
  useEffect(() => {
    browser.commands
      .getAll()
      .then(setCommands, (err: unknown) => console.warn('[pace] could not read the shortcuts', err));
  }, [browser]);
  const firefox = import.meta.env.BROWSER === 'firefox';
  return (
    <section aria-labelledby="shortcuts-heading" data-testid="shortcuts">
      <h2 id="shortcuts-heading">Keyboard shortcuts</h2>
      <table>
        <tbody>
          {(commands ?? []).map((c) => (
            <tr key={c.name}>
              <td>{NAMES[c.name ?? ''] ?? c.description ?? c.name}</td>
              <td>{c.shortcut ? <kbd>{c.shortcut}</kbd> : <span className="hint">not set</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {firefox ? (
        <p className="hint">
          To change them, open <code>about:addons</code>, click the gear button, and choose{' '}
          <em>Manage Extension Shortcuts</em>.
        </p>
      ) : (
        <p className="hint">
          To change them, open{' '}
          <button
            type="button"
            className="link"
            onClick={() =>
              void browser.tabs
                .create({ url: 'chrome://extensions/shortcuts' })
                .catch((err: unknown) => console.warn('[pace] could not open the shortcut settings', err))
            }
          >
            chrome://extensions/shortcuts
          </button>
          .
        </p>
      )}
    </section>
  );
}
