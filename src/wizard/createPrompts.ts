/**
 * The wizard's four kinds of question, bound to the terminal the CLI was given. An interface
 * rather than direct @inquirer/prompts calls so the flow can be driven by a script in tests
 * and so every prompt shares the run's AbortSignal (a Ctrl-C between prompts ends them too).
 */
import { checkbox, confirm, input, select } from '@inquirer/prompts';

import type { Io } from '../cli/output.js';

export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
  checked?: boolean;
}

export interface WizardPrompts {
  input(question: {
    message: string;
    default?: string;
    validate?: (value: string) => Promise<true | string> | true | string;
  }): Promise<string>;
  select<T>(question: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  checkbox<T>(question: { message: string; choices: Choice<T>[] }): Promise<T[]>;
  confirm(question: { message: string; default: boolean }): Promise<boolean>;
}

export function createPrompts(io: Io, signal?: AbortSignal): WizardPrompts {
  const context = {
    input: io.stdin,
    output: io.stdout,
    ...(signal ? { signal } : {}),
  };
  return {
    input: (question) => input(question, context),
    select: (question) => select({ ...question, pageSize: 12 }, context),
    checkbox: (question) => checkbox({ ...question, pageSize: 15 }, context),
    confirm: (question) => confirm(question, context),
  };
}

/**
 * Ctrl-C (or Ctrl-D) at a prompt: @inquirer rejects with ExitPromptError; an aborted signal
 * gives AbortPromptError. Matched by name because the classes live in @inquirer/core, which
 * is not ours to import directly.
 */
export function isPromptCancelled(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')
  );
}
