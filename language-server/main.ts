export async function lspCommand(_argv: string[]): Promise<number> { process.stderr.write('kctx: not built yet\n'); return 2; }
