#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so there is no build step between a change and its use.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli.ts');
process.exitCode = await runCli(process.argv);
