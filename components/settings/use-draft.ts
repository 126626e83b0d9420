import { useEffect, useState } from 'react';

/**
 * A settings form's draft: it follows the stored value (which another options page may change)
 * until the user edits it, and goes back to following it once a save succeeds. Errors and the
 * save's message clear on every edit.
 */
export function useDraft<V, D, K extends string>(stored: V | null | undefined, toDraft: (value: V) => D) {
  const [draft, setDraft] = useState<D | null>(null);
  /** The user changed a field since the draft last matched the stored value. */
  const [edited, setEdited] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<K, string>>>({});
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    if (stored && !edited) setDraft(toDraft(stored));
  }, [stored, edited, toDraft]);

  return {
    draft,
    errors,
    message,
    /** The user changed the draft to `next`. */
    edit(next: D) {
      setDraft(next);
      setEdited(true);
      setErrors({});
      setMessage(null);
    },
    /** The save succeeded: the draft is what was stored, and follows it again. */
    saved(value: V, text: string) {
      setDraft(toDraft(value));
      setEdited(false);
      setErrors({});
      setMessage(text);
    },
    /** The save failed: the fields' errors and the message (from `notSaved`). */
    failed(fields: Partial<Record<K, string>>, text: string) {
      setErrors(fields);
      setMessage(text);
    },
  };
}
