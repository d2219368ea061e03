/** The C prototypes of the kernel functions kctx implements natively, as the shipped headers declare them. */
import { KAPI, KAPI_VARARGS } from './abi/kapi';
import { KAPI_STRINGS } from './abi/kstring';
import { KAPI_SOFTSTATE } from './abi/ksoftstate';
import { FREEBSD_KAPI } from './freebsd/kapi';

let protos: Map<string, string> | null = null;

/** The prototype of native kernel function `name` (illumos or FreeBSD personality), if it has one. */
export function nativePrototype(name: string): string | undefined {
  if (!protos) {
    protos = new Map();
    for (const k of [...KAPI, ...KAPI_VARARGS, ...KAPI_STRINGS, ...KAPI_SOFTSTATE, ...FREEBSD_KAPI]) if (k.proto) protos.set(k.name, k.proto);
  }
  return protos.get(name);
}
