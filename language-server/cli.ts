export async function lintCommand(_argv: string[]): Promise<number> { process.stderr.write('kctx: not built yet\n'); return 2; }
