import { renderToStaticMarkup } from 'react-dom/server';
import { expect, it } from 'vitest';
import { IncludeAttachments } from '@/components/chat/HistoryList';

it('labels the export\'s "Include attachments" choice, unticked unless chosen', () => {
  expect(renderToStaticMarkup(<IncludeAttachments checked={false} onChange={() => undefined} />)).toBe(
    '<label class="check" for="exportAttachments"><input id="exportAttachments" type="checkbox"/>Include attachments</label>',
  );
  expect(renderToStaticMarkup(<IncludeAttachments checked onChange={() => undefined} />)).toContain('checked=""');
});
