// Synthesizes the observability stack: `npm run synth` (or `cdk8s synth`) → dist/, compose/ and the Helm
// chart's generated files, all of them or none.
// Settings: defaults, or a YAML/JSON file named by STACK_CONFIG (see lib/config.ts for every setting).
import { loadStackInput, StackConfigError, StackConfigFileError, synthesize } from './lib';

try {
  const input = process.env.STACK_CONFIG ? loadStackInput(process.env.STACK_CONFIG) : {};
  synthesize(input, { distDir: process.env.CDK8S_OUTDIR ?? 'dist' });
} catch (e) {
  if (!(e instanceof StackConfigError) && !(e instanceof StackConfigFileError)) throw e;
  console.error(`Synthesis failed; nothing was written.\n${e.message}`);
  process.exit(1);
}
