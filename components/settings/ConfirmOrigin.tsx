import { confirmQuestion } from '@/lib/settings/key-origins';

/**
 * Asks before the API key first goes to an origin other than Anthropic's, naming it, in the words
 * the user answers with. The answer is recorded by the caller (`confirmKeyOrigin`).
 */
export function ConfirmOrigin({
  origin,
  onConfirm,
  onCancel,
  cancelLabel = 'Cancel',
  testId,
}: {
  origin: string;
  onConfirm: () => void;
  onCancel: () => void;
  cancelLabel?: string;
  testId: string;
}) {
  return (
    <div role="alertdialog" aria-label="Confirm the gateway" className="confirm-origin" data-testid={testId}>
      <p>{confirmQuestion(origin)}</p>
      <div className="row">
        <button type="button" className="primary" onClick={onConfirm}>
          Send my key to {origin}
        </button>
        <button type="button" onClick={onCancel}>
          {cancelLabel}
        </button>
      </div>
    </div>
  );
}
