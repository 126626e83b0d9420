/** Pieces shared by the options page's forms. */
export { FieldError } from '../ui/FieldError';

const NOT_SAVED = 'Nothing was saved: ';

/** The message of a save that failed; SaveRow shows it in red. */
export const notSaved = (why: string) => `${NOT_SAVED}${why}`;

/** The form's save button, and what the save said (a failure, from `notSaved`, in red). */
export function SaveRow({
  label,
  onSave,
  message,
  testId,
}: {
  label: string;
  onSave: () => void;
  message: string | null;
  testId: string;
}) {
  return (
    <div className="row">
      <button type="button" className="primary" onClick={onSave}>
        {label}
      </button>
      {message && (
        <span className={message.startsWith(NOT_SAVED) ? 'field-error' : 'ok'} data-testid={testId}>
          {message}
        </span>
      )}
    </div>
  );
}
