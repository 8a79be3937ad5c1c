import type { CommandEnvelope, CommandOutcome } from '@tidemark/schemas';
import { TidemarkError } from '@tidemark/schemas';

/**
 * How the gateway reaches the command log. The caller registers its waiter first (awaitOutcome), then sends:
 * an outcome that arrives between the two is therefore never missed.
 */
export interface CommandTransport {
  /** Writes the command to <context>.commands; rejects with TidemarkError LOG_UNAVAILABLE (503) when it cannot. */
  send(context: string, command: CommandEnvelope): Promise<void>;
  /**
   * Registers a waiter for the command's outcome synchronously (before returning) and resolves with the outcome,
   * or null once timeoutMs has passed. An outcome already seen resolves at once. Never rejects.
   */
  awaitOutcome(context: string, commandId: string, timeoutMs: number): Promise<CommandOutcome | null>;
  /** An outcome this transport has seen (bounded memory), or null. */
  lookupOutcome(context: string, commandId: string): CommandOutcome | null;
  close(): Promise<void>;
}

export function logUnavailable(message: string, details?: Record<string, unknown>): TidemarkError {
  return new TidemarkError('LOG_UNAVAILABLE', message, 503, true, details);
}
