/** templates.save and page.read: the context menu's templates and "Ask about this page" (lib/reach/reach-menus.ts). */
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import { checkModel } from '../../settings/validate';
import type { Deps } from './deps';
import type { PaceError } from '../../storage/rows';

const NO_REACH: PaceError = { code: 'internal', message: 'This part of Pace is not running; reload the extension.' };

export async function templatesSave(
  d: Deps,
  { templates }: RequestOf<'templates.save'>,
): Promise<ReplyOf<'templates.save'>> {
  if (!d.reach) throw new PaceFailure(NO_REACH);
  return d.reach.saveTemplates(templates);
}

export async function pageRead(
  d: Deps,
  { conversationId = null, model = null }: RequestOf<'page.read'>,
): Promise<ReplyOf<'page.read'>> {
  if (!d.reach) throw new PaceFailure(NO_REACH);
  const chosen = model === null ? null : checkModel(model);
  if (chosen && !chosen.ok) throw new PaceFailure({ code: 'invalid_input', message: chosen.message, field: 'model' });
  return d.reach.readPage({ conversationId, model: chosen?.value ?? null });
}
