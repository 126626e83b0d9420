/**
 * The prompt templates as stored: one `meta` row, written only by the background (saveTemplates,
 * after checkTemplates), read by the background for the context menu and by the options page.
 */
import type { PaceDB } from '../storage/db';
import { checkTemplates, DEFAULT_TEMPLATES } from './templates';
import type { PromptTemplate } from '../storage/rows';

/** The saved templates, or the defaults when none were saved or the row is damaged. */
export async function readTemplates(db: PaceDB): Promise<PromptTemplate[]> {
  const row = await db.meta.get('templates');
  if (row?.key !== 'templates' || !Array.isArray(row.value)) return [...DEFAULT_TEMPLATES];
  const checked = checkTemplates(row.value, () => crypto.randomUUID());
  if (checked.ok) return checked.value;
  console.warn('[pace] the saved prompt templates are damaged; using the defaults:', checked.message);
  return [...DEFAULT_TEMPLATES];
}

export async function saveTemplates(db: PaceDB, templates: PromptTemplate[]): Promise<void> {
  await db.meta.put({ key: 'templates', value: templates });
}
