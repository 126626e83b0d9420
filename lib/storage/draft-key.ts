/** The draft's key in the extension's local storage: the popup's early script reads it without the storage module. */
export const DRAFT_KEY = 'draft';
