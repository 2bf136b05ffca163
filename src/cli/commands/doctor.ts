/** `modelseal doctor`: Node version, CPU features, each backend's probe result and reason, TEE devices. */
import type { Command } from 'commander';
import { doctorReport } from '../../index.js';
import { contextOf, runAction, writeJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('show the Node version, CPU features, every backend (available or why not), GPU adapter and TEE devices')
    .option('--json', 'one JSON object on stdout')
    .action(async (flags: { json?: boolean }) => {
      const ctx = contextOf(flags, false);
      await runAction(ctx, async () => {
        const r = await doctorReport();
        if (ctx.json) {
          writeJson(r);
          return 0;
        }
        const out: string[] = [];
        out.push(`node      ${String(r.node)}  ${String(r.platform)}`);
        out.push(`cpu       ${String(r.cpu)} (${String(r.cores)} logical cores)`);
        const n = r.native;
        // Which addon loaded (prebuilt / source build / none) and why: the first thing to know when native is slow or missing.
        out.push(n.ok ? `addon     ${n.origin}: ${n.path}\n          ${n.why}` : `addon     none: ${n.reason}`);
        if (n.ok) {
          const f = n.cpuFeatures;
          const flagsOn = Object.entries(f).filter(([k, v]) => v === true && k !== 'arch').map(([k]) => k);
          out.push(`features  ${flagsOn.join(' ') || '(none)'}`);
          // the kernel and the rule that chose it: a slow run starts with whether this is the expected one
          if (n.sha256Kernel) out.push(`sha256    ${n.sha256Kernel.kernel}: ${n.sha256Kernel.reason}`);
        } else {
          out.push(`features  unknown (native addon unavailable)`);
        }
        out.push('backends');
        for (const b of r.backends) {
          out.push(
            b.ok
              ? `  ✓ ${b.name.padEnd(12)} ${b.capabilities.algorithms.join(',').padEnd(22)} ${b.capabilities.detail}`
              : `  ✗ ${b.name.padEnd(12)} unavailable: ${b.reason}`,
          );
        }
        out.push('preference (auto)');
        for (const [alg, names] of Object.entries(r.preference)) out.push(`  ${alg.padEnd(8)} ${names.join(' > ')}`);
        out.push('tee devices');
        for (const [p, present] of Object.entries(r.tee)) out.push(`  ${present ? '✓' : '✗'} ${p}`);
        process.stdout.write(out.join('\n') + '\n');
        return 0;
      });
    });
}
