export async function runCommand(_argv: string[]): Promise<number> { process.stderr.write('kctx: not built yet\n'); return 2; }
export async function mdbCommand(_argv: string[]): Promise<number> { process.stderr.write('kctx: not built yet\n'); return 2; }
