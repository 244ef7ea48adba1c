/**
 * The wizard's four kinds of question, bound to the terminal the CLI was given. An interface
 * rather than direct @inquirer/prompts calls so the flow can be driven by a script in tests
 * and so every prompt shares the run's AbortSignal (a Ctrl-C between prompts ends them too).
 */
import { checkbox, confirm, input, select } from '@inquirer/prompts';

import { printableLine, printableText, type Io } from '../cli/output.js';

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

/**
 * What a prompt shows is escaped as every other screen is (printableLine): a list name is a
 * directory name, chosen by whoever made it, and one holding an ESC sequence reached the
 * terminal raw from the list picker (it set the window title, turned the screen red). The
 * values chosen stay as they are.
 */
function printableChoices<T>(choices: Choice<T>[]): Choice<T>[] {
  return choices.map((choice) => ({
    ...choice,
    name: printableLine(choice.name),
    ...(choice.description !== undefined ? { description: printableText(choice.description) } : {}),
  }));
}

export function createPrompts(io: Io, signal?: AbortSignal): WizardPrompts {
  const context = {
    input: io.stdin,
    output: io.stdout,
    ...(signal ? { signal } : {}),
  };
  return {
    input: ({ validate, ...question }) =>
      input(
        {
          ...question,
          message: printableText(question.message),
          ...(validate
            ? {
                validate: async (value: string) => {
                  const verdict = await validate(value);
                  return verdict === true ? true : printableText(verdict);
                },
              }
            : {}),
        },
        context,
      ),
    select: (question) =>
      select(
        {
          ...question,
          message: printableText(question.message),
          choices: printableChoices(question.choices),
          pageSize: 12,
        },
        context,
      ),
    checkbox: (question) =>
      checkbox(
        {
          ...question,
          message: printableText(question.message),
          choices: printableChoices(question.choices),
          pageSize: 15,
        },
        context,
      ),
    confirm: (question) =>
      confirm({ ...question, message: printableText(question.message) }, context),
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
