import { createBackgroundClient } from '@/lib/messaging/page-client';

/** The page's one connection to the background. */
export const background = createBackgroundClient();
