/** Pieces shared by the options page's forms. */
export { FieldError } from '../ui/FieldError';

/** The form's save button, and what the save said (an error in red). */
export function SaveRow({ label, onSave, message, failed, testId }: { label: string; onSave: () => void; message: string | null; failed: boolean; testId: string }) {
  return (
    <div className="row">
      <button type="button" className="primary" onClick={onSave}>
        {label}
      </button>
      {message && (
        <span className={failed ? 'field-error' : 'ok'} data-testid={testId}>
          {message}
        </span>
      )}
    </div>
  );
}
