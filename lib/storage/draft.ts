/**
 * The message box's unsent text, kept in the extension's local storage so that a popup closed at any
 * moment loses nothing. The page writes it itself: it is what the user typed, only for the message
 * box, with nothing for the background to check (the background adds quotes to it: lib/reach/reach-menus.ts).
 */
import { draftItem } from './settings';

export const readDraft = (): Promise<string> => draftItem.getValue();

export const saveDraft = (text: string): Promise<void> => draftItem.setValue(text);
