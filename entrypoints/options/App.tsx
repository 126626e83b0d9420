import { useEffect, useState } from 'react';
import { background } from '@/components/background';
import { BatchPrefsForm } from '@/components/settings/BatchPrefsForm';
import { BudgetForm } from '@/components/settings/BudgetForm';
import { ChatPrefsForm } from '@/components/settings/ChatPrefsForm';
import { DevicesSection } from '@/components/settings/DevicesSection';
import { useTheme } from '@/components/ui/use-theme';
import { KeySection } from '@/components/settings/KeySection';
import { LimitsForm } from '@/components/settings/LimitsForm';
import { SettingsForm } from '@/components/settings/SettingsForm';
import { UsagePrefsForm } from '@/components/settings/UsagePrefsForm';
import { ShortcutsSection } from '@/components/reach/ShortcutsSection';
import { TemplatesForm } from '@/components/reach/TemplatesForm';
import { browser } from 'wxt/browser';
import type { ModelInfo } from '@/lib/claude/models';
import { DEFAULT_BASE_URL } from '@/lib/settings/validate';
import { modelsItem } from '@/lib/settings/settings-items';

export function App() {
  const [models, setModels] = useState<ModelInfo[] | null>(null);
  const [baseURL, setBaseURL] = useState(DEFAULT_BASE_URL);
  const [hasKey, setHasKey] = useState(false);
  useTheme();
  useEffect(() => {
    void modelsItem.getValue().then((saved) => saved && setModels(saved.models));
  }, []);
  return (
    <main className="options-page">
      <h1>Pace</h1>
      <p className="hint">
        Chat with Claude from the toolbar, with your own key, inside the limits you set. See your{' '}
        <a href="/usage.html" target="_blank" rel="noreferrer" data-testid="options-usage">
          usage and estimated spend
        </a>
        .
      </p>
      <KeySection client={background} baseURL={baseURL} onModels={setModels} onHasKey={setHasKey} />
      <LimitsForm client={background} />
      <BudgetForm client={background} />
      <SettingsForm client={background} models={models} onBaseURL={setBaseURL} hasKey={hasKey} />
      <UsagePrefsForm client={background} />
      <ChatPrefsForm client={background} />
      <TemplatesForm client={background} />
      <ShortcutsSection browser={browser} />
      <BatchPrefsForm client={background} />
      <DevicesSection client={background} />
    </main>
  );
}
