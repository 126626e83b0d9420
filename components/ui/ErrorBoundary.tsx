import { Component, type ReactNode } from 'react';

/** Keeps one broken piece (a corrupted message row, say) from blanking the whole page. */
export class ErrorBoundary extends Component<{ fallback: ReactNode; children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  componentDidCatch(error: unknown) {
    console.error('[pace] could not show part of the page', error);
  }

  render() {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}
