// The Prefer header (RFC 7240) as a per-request fault, `Prefer: code=503, delay=200`, and as the request's contract
// handling, `Prefer: strict` (or RFC 7240 §4.4's `handling=strict`, and `handling=lenient` to turn strict mode off).
import { FAULT_STATUSES, MAX_DELAY_MS, type FaultEffect } from '../schemas/faults.js'

export const PREFER_HELP = `supported preferences: code=<${FAULT_STATUSES.join('|')}> and delay=<0-${MAX_DELAY_MS} milliseconds>, plus strict (or handling=strict|lenient) for contract checks, e.g. "Prefer: code=429, delay=100"`

export class PreferError extends Error {}

/**
 * Returns the effect a Prefer header asks for, or null without one. Unlike RFC 7240's advice to ignore
 * unknown preferences, anything unsupported is an error: a typo must not silently test the happy path.
 */
export function parsePrefer (header: string | string[] | undefined): FaultEffect | null {
  if (header === undefined) return null
  const text = Array.isArray(header) ? header.join(',') : header
  const effect: FaultEffect = {}
  let handling: boolean | null = null
  for (const raw of text.split(/[,;]/)) {
    const item = raw.trim()
    if (item === '') continue
    const m = /^([A-Za-z][\w-]*)\s*=\s*"?([^"]*)"?$/.exec(item)
    const name = m?.[1]?.toLowerCase()
    const value = m?.[2]?.trim() ?? ''
    const strict = handlingOf(item)
    if (strict !== undefined) {
      if (handling !== null && handling !== strict) throw new PreferError(`Prefer asks for strict and lenient handling at once: ${PREFER_HELP}`)
      handling = strict
    } else if (name === 'code') {
      const code = Number(value)
      if (!/^\d{3}$/.test(value) || !(FAULT_STATUSES as readonly number[]).includes(code)) throw new PreferError(`Unsupported Prefer code "${value}": ${PREFER_HELP}`)
      if (effect.status !== undefined) throw new PreferError(`Prefer gives code twice: ${PREFER_HELP}`)
      effect.status = code as FaultEffect['status']
    } else if (name === 'delay') {
      const delay = Number(value)
      if (!/^\d+$/.test(value) || delay > MAX_DELAY_MS) throw new PreferError(`Unsupported Prefer delay "${value}": ${PREFER_HELP}`)
      if (effect.delayMs !== undefined) throw new PreferError(`Prefer gives delay twice: ${PREFER_HELP}`)
      effect.delayMs = delay
    } else {
      throw new PreferError(`Unsupported Prefer "${item.length > 60 ? `${item.slice(0, 60)}…` : item}": ${PREFER_HELP}`)
    }
  }
  return effect.status === undefined && effect.delayMs === undefined ? null : effect
}

/** true for `strict` or `handling=strict`, false for `handling=lenient`, undefined for any other preference. */
function handlingOf (item: string): boolean | undefined {
  const text = item.toLowerCase().replace(/\s+/g, '').replaceAll('"', '')
  if (text === 'strict' || text === 'handling=strict') return true
  if (text === 'handling=lenient') return false
  return undefined
}

/**
 * The contract handling a Prefer header asks for: true (strict), false (lenient) or null (neither). Never throws: a
 * malformed header is answered by parsePrefer, which the fault hook runs on every request that carries one.
 */
export function preferredHandling (header: string | string[] | undefined): boolean | null {
  if (header === undefined) return null
  const text = Array.isArray(header) ? header.join(',') : header
  let handling: boolean | null = null
  for (const item of text.split(/[,;]/)) handling = handlingOf(item.trim()) ?? handling
  return handling
}
