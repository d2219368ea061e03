export async function dapCommand(_argv: string[]): Promise<number> { process.stderr.write('kctx: not built yet\n'); return 2; }
