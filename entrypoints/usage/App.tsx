import { UsageDashboard } from '@/components/usage/UsageDashboard';
import { useTheme } from '@/components/ui/use-theme';

/** Marks the first paint with data, for the page-load benchmark and the end-to-end tests. */
function painted() {
  performance.mark('pace-usage-painted');
  document.getElementById('root')?.setAttribute('data-ready', 'true');
}

export function App() {
  useTheme();
  return <UsageDashboard onPainted={painted} />;
}
