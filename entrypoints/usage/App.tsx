import { UsageDashboard } from '@/components/usage/UsageDashboard';

/** Marks the first paint with data, for the page-load benchmark and the end-to-end tests. */
function painted() {
  performance.mark('pace-usage-painted');
  document.getElementById('root')?.setAttribute('data-ready', 'true');
}

export function App() {
  return <UsageDashboard onPainted={painted} />;
}
