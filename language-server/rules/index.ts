/** The registry: every rule the engine runs, in a stable order. */
import type { Rule } from './types';
import { rule as installctxArity } from './installctx-arity';
import { rule as sleepingAlloc } from './sleeping-alloc-preempt-disabled';
import { rule as legacyApi } from './legacy-ctxop-api';
import { rule as templateRev } from './ctxop-template-rev';
import { rule as removeMismatch } from './ctxop-remove-mismatch';
import { rule as leak } from './ctxop-leak';
import { rule as doubleFree } from './ctxop-double-free';
import { rule as handlerSignature } from './ctxop-handler-signature';
import { rule as blockingHook } from './blocking-in-ctxop-hook';
import { rule as ringWalk } from './ctx-ring-walk';
import { rule as assertSideEffect } from './assert-side-effect';
import { rule as curvnet } from './curvnet-unbalanced';
import { rule as curvnetScope } from './curvnet-set-scope';
import { rule as vnetAccess } from './vnet-access-without-curvnet';
import { rule as vnetMaster } from './vnet-master-copy-address';
import { rule as vnetSysinit } from './vnet-sysinit-without-sysuninit';
import { rule as assertOnly } from './assert-only-variable';
import { rule as lockNotReleased } from './lock-not-released';
import { rule as unlockNotHeld } from './unlock-not-held';

export type { Rule, Severity, Confidence, Finding, Fix, TextEdit } from './types';

export const RULES: readonly Rule[] = [
  installctxArity, sleepingAlloc, legacyApi, templateRev, removeMismatch, leak,
  doubleFree, handlerSignature, blockingHook, ringWalk, assertSideEffect, curvnet,
  curvnetScope, vnetAccess, vnetMaster, vnetSysinit, assertOnly, lockNotReleased, unlockNotHeld,
];

export const RULES_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((r) => [r.id, r]));

/** Not a rule: the information diagnostic for a file that was not linted (too big, binary, over budget). */
export const SKIPPED_ID = 'file-skipped';
