/** A message about one field or action, in red and announced; nothing when there is none. */
export function FieldError({ error, testId }: { error: string | null | undefined; testId?: string }) {
  return error ? (
    <p className="field-error" role="alert" data-testid={testId}>
      {error}
    </p>
  ) : null;
}
