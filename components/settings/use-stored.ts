import { useEffect, useState } from 'react';

/** A storage item's value, kept current when any page or the background changes it; null until read. */
export function useStored<T>(item: { getValue(): Promise<T>; watch(cb: (value: T) => void): () => void }): T | null {
  const [value, setValue] = useState<T | null>(null);
  useEffect(() => {
    let live = true;
    const unwatch = item.watch((next) => setValue(next));
    void item.getValue().then((v) => {
      if (live) setValue(v);
    });
    return () => {
      live = false;
      unwatch();
    };
  }, [item]);
  return value;
}
