import { useEffect } from 'react';
import { chatPrefsItem } from '@/lib/settings/settings-items';
import { useStored } from '../settings/use-stored';

/**
 * Applies the theme chosen in the options to the page: `data-theme` on the root element when it is
 * Light or Dark; with System, none, and styles.css follows prefers-color-scheme.
 */
export function useTheme(): void {
  const theme = useStored(chatPrefsItem)?.theme;
  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
    else delete root.dataset.theme;
  }, [theme]);
}
