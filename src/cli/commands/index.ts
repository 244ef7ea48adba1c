import type { Command } from 'commander';
import type { CliContext } from '../command.js';
import { registerScanCommand } from './scan.js';
import { registerCheckCommand } from './check.js';
import { registerDoctorCommand } from './doctor.js';
import { registerApplyCommand } from './apply.js';
import { registerPlanCommand } from './plan.js';
import { registerWizardCommand } from './wizard.js';
import { registerIndexCommand } from './indexArchive.js';
import { registerCompletionCommand } from './completion.js';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/** Every command, in the order `--help` lists them. */
export const COMMANDS: RegisterCommand[] = [
  registerScanCommand,
  registerCheckCommand,
  registerDoctorCommand,
  registerPlanCommand,
  registerApplyCommand,
  registerWizardCommand,
  registerIndexCommand,
  registerCompletionCommand,
];
