/** Set by `npm start` to the local demo backend's URL; empty in every other build. */
declare const __PACE_DEMO_URL__: string;

export const DEMO_URL: string = __PACE_DEMO_URL__;
export const DEMO_KEY = 'demo';
