// Ctrl-C during a transfer: the first stops it cleanly (what can resume is kept), the second quits at once.
import { EXIT_INTERRUPTED } from './cli-error.ts';

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

export function onInterrupt(onFirst: () => void): Interrupt {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    onFirst();
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}
