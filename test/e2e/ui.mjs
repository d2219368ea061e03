// Mode B placeholder (filled in below in later steps).
export async function runModeB() { return { passed: 0, failed: 0, skipped: 0 }; }
