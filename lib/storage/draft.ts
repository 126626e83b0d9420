/**
 * The message box's unsent text, kept in the extension's local storage so that a popup closed at any
 * moment loses nothing. The page writes it itself: it is what the user typed, only for the message
 * box, with nothing for the background to check (the background adds quotes to it: lib/reach/reach-menus.ts).
 */
import { defineItem } from './item';
import { DRAFT_KEY } from './draft-key';

/** What the user was typing, kept when the popup closes or a send is refused. */
export const draftItem = defineItem<string>(`local:${DRAFT_KEY}`, { fallback: '', version: 1 });

export const readDraft = (): Promise<string> => draftItem.getValue();

export const saveDraft = (text: string): Promise<void> => draftItem.setValue(text);
