import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@/components/styles.css';
import { App } from '../popup/App';

// The popup's chat, in Chrome's side panel and Firefox's sidebar.
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App surface="panel" />
  </StrictMode>,
);
