import type { ReactNode } from 'react';

/** What a send would cost and what would stop it, as the background's preview words it (chat.preview, page.read). */
export interface CostPreviewData {
  lines: string[];
  blocker: string | null;
}

/**
 * The preview's lines and, in red, what would refuse the send: "Ask about this page"'s card and the
 * composer's line before a message with attachments, thinking or search.
 */
export function CostPreview({
  preview,
  listTestId,
  blockerTestId,
  more,
}: {
  preview: CostPreviewData;
  listTestId: string;
  blockerTestId: string;
  /** Further lines after the preview's own. */
  more?: ReactNode;
}) {
  return (
    <>
      <ul data-testid={listTestId}>
        {preview.lines.map((line) => (
          <li key={line}>{line}</li>
        ))}
        {more}
      </ul>
      {preview.blocker && (
        <p className="error" data-testid={blockerTestId}>
          {preview.blocker}
        </p>
      )}
    </>
  );
}
