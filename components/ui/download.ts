import { safeFileName } from '@/lib/safe-file-name';

/** Saves `text` as a file through the browser's downloads (an anchor with `download`), named from safe characters only. */
export function download(text: string, type: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = safeFileName(name);
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own copy once started; give it a moment before letting the blob go.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
