import { useLiveQuery } from 'dexie-react-hooks';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { readTemplates } from '@/lib/reach/template-store';
import { checkTemplates, MAX_TEMPLATES } from '@/lib/reach/templates';
import type { PromptTemplate } from '@/lib/storage/rows';
import { getDb } from '@/lib/storage/db';
import { FieldError, notSaved, SaveRow } from '../settings/form-parts';
import { useDraft } from '../settings/use-draft';

type Row = { id: string | null; title: string; prompt: string };
const toDraft = (list: PromptTemplate[]): Row[] => list.map((t) => ({ ...t }));

/**
 * The context menu's prompt templates: edit, add, remove. The background checks and saves them
 * (templates.save) and rebuilds the menu; the form follows the saved list until it is edited.
 */
export function TemplatesForm({ client }: { client: BackgroundClient }) {
  const stored = useLiveQuery(() => readTemplates(getDb()), []);
  const form = useDraft<PromptTemplate[], Row[], string>(stored, toDraft);
  const { draft, errors, message } = form;
  if (!draft) return null;
  const change = (i: number, patch: Partial<Row>) =>
    form.edit(draft.map((row, j) => (j === i ? { ...row, ...patch } : row)));

  const save = async () => {
    const checked = checkTemplates(draft, () => 'new');
    if (!checked.ok) {
      const fields: Record<string, string> = {};
      checked.errors.rows.forEach((row, i) => {
        if (row.title) fields[`${i}.title`] = row.title;
        if (row.prompt) fields[`${i}.prompt`] = row.prompt;
      });
      form.failed(fields, notSaved(checked.message));
      return;
    }
    const r = await client.request('templates.save', { templates: draft });
    if (!r.ok) {
      form.failed(r.error.fields ?? {}, notSaved(r.error.message));
      return;
    }
    form.saved(r.data, 'Saved. The context menu shows them now.');
  };

  return (
    <section aria-labelledby="templates-heading" data-testid="templates">
      <h2 id="templates-heading">Prompt templates</h2>
      <p className="hint">
        Select text on a page, right-click, and pick <em>Ask Claude with a template</em>: the selection is sent quoted,
        after the template&apos;s instruction, through the same queue and limits as a typed message.
      </p>
      {draft.map((row, i) => (
        <fieldset key={row.id ?? `new-${i}`} className="template-row">
          <legend>Template {i + 1}</legend>
          <label htmlFor={`template-title-${i}`}>Title (the menu shows it)</label>
          <input id={`template-title-${i}`} value={row.title} onChange={(e) => change(i, { title: e.target.value })} />
          <FieldError error={errors[`${i}.title`]} />
          <label htmlFor={`template-prompt-${i}`}>Instruction sent before the selection</label>
          <textarea
            id={`template-prompt-${i}`}
            rows={2}
            value={row.prompt}
            onChange={(e) => change(i, { prompt: e.target.value })}
          />
          <FieldError error={errors[`${i}.prompt`]} />
          <button type="button" className="danger" onClick={() => form.edit(draft.filter((_, j) => j !== i))}>
            Remove template {i + 1}
          </button>
        </fieldset>
      ))}
      <div className="row">
        <button
          type="button"
          onClick={() => form.edit([...draft, { id: null, title: '', prompt: '' }])}
          disabled={draft.length >= MAX_TEMPLATES}
        >
          Add a template
        </button>
      </div>
      <SaveRow label="Save templates" onSave={() => void save()} message={message} testId="templates-message" />
    </section>
  );
}
