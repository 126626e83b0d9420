/** settings.save, chatPrefs.save and batchPrefs.save: the options page's choices, checked and written through `prefs`. */
import { pruneConversations } from '../../chat/conversation-store';
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import { checkBatchPrefs } from '../../settings/batch-prefs';
import { checkChatPrefs } from '../../settings/chat-prefs';
import { unconfirmedOrigin, unconfirmedOriginError } from '../../settings/key-origins';
import { checkSettings, maskHeaderLines } from '../../settings/validate';
import type { Deps } from './deps';
import { formRefused } from './refusals';

export async function settingsSave(
  d: Deps,
  { settings, confirmOrigin }: RequestOf<'settings.save'>,
): Promise<ReplyOf<'settings.save'>> {
  const saved = await d.settings();
  const keep = settings.extraHeaders === null;
  // Absent figures keep the saved ones (a page that does not show the search figure does not reset it).
  const checked = checkSettings({
    ...settings,
    extraHeaders: settings.extraHeaders ?? saved.extraHeaders,
    webSearchMaxUses: settings.webSearchMaxUses ?? saved.webSearchMaxUses,
  });
  if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These settings are not valid.'));
  const [from, to] = [new URL(saved.baseURL).origin, new URL(checked.value.baseURL).origin];
  if (from !== to && checked.value.extraHeaders !== '' && (keep || checked.value.extraHeaders === saved.extraHeaders)) {
    // The gateway headers are one gateway's secrets: they never follow the base URL to another origin unasked.
    throw new PaceFailure({
      code: 'invalid_input',
      message: `Not saved: the gateway headers were saved for ${from} and would go to ${to}. Press "Replace headers" to enter the ones for ${to}, or leave them empty.`,
      field: 'extraHeaders',
    });
  }
  const origin = unconfirmedOrigin(checked.value.baseURL, await d.keys.origins());
  if (origin !== null && confirmOrigin) {
    await d.prefs.confirmOrigin(origin);
  } else if (origin !== null && (await d.keys.status()).hasKey) {
    // The saved key would follow the base URL to a gateway the user has not said yes to.
    throw new PaceFailure({
      ...unconfirmedOriginError(origin),
      message: `Not saved: confirm first that your API key may go to ${origin}.`,
      field: 'baseURL',
    });
  }
  await d.prefs.saveSettings(checked.value);
  // The reply goes back to a page: the gateway headers' values, secrets like the key, go masked.
  return { ...checked.value, extraHeaders: maskHeaderLines(checked.value.extraHeaders) };
}

export async function chatPrefsSave(d: Deps, input: RequestOf<'chatPrefs.save'>): Promise<ReplyOf<'chatPrefs.save'>> {
  const checked = checkChatPrefs(input);
  if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These choices are not valid.'));
  await d.prefs.saveChatPrefs(checked.value);
  await pruneConversations(d.db, d.now(), checked.value.keepDays);
  return checked.value;
}

export async function batchPrefsSave(
  d: Deps,
  input: RequestOf<'batchPrefs.save'>,
): Promise<ReplyOf<'batchPrefs.save'>> {
  const checked = checkBatchPrefs(input);
  if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These choices are not valid.'));
  await d.prefs.saveBatchPrefs(checked.value);
  // A shorter window or poll applies at once.
  void d.batches?.tick();
  return checked.value;
}
